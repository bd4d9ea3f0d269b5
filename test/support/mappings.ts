/**
 * Test support: the correct HF ViT → Paddle-style ViT rules (fused qkv, every Linear transposed) over
 * test/fixtures/mapping's checkpoints, shared by the analysis and converter tests; and the same port onto
 * the Paddle ViT model source, shared by the source tests; and the converter's round-trip and T5 rules.
 */
export const VIT_TO_PADDLE_RULES = `
embeddings.cls_token                     -> cls_token
embeddings.position_embeddings           -> pos_embed
embeddings.patch_embeddings.projection.* -> patch_embed.proj.*
encoder.layer.{i}.layernorm_before.*     -> blocks.{i}.norm1.*
[encoder.layer.{i}.attention.attention.query.weight, encoder.layer.{i}.attention.attention.key.weight, encoder.layer.{i}.attention.attention.value.weight] -> blocks.{i}.attn.qkv.weight | cat(0) | transpose
[encoder.layer.{i}.attention.attention.query.bias, encoder.layer.{i}.attention.attention.key.bias, encoder.layer.{i}.attention.attention.value.bias] -> blocks.{i}.attn.qkv.bias | cat(0)
encoder.layer.{i}.attention.output.dense.weight -> blocks.{i}.attn.proj.weight | transpose
encoder.layer.{i}.attention.output.dense.bias   -> blocks.{i}.attn.proj.bias
encoder.layer.{i}.layernorm_after.*             -> blocks.{i}.norm2.*
encoder.layer.{i}.intermediate.dense.weight     -> blocks.{i}.mlp.fc1.weight | transpose
encoder.layer.{i}.intermediate.dense.bias       -> blocks.{i}.mlp.fc1.bias
encoder.layer.{i}.output.dense.weight           -> blocks.{i}.mlp.fc2.weight | transpose
encoder.layer.{i}.output.dense.bias             -> blocks.{i}.mlp.fc2.bias
layernorm.* -> norm.*
pooler.*    -> drop
`;

/** The correct HF ViT → Paddle ViT *source* rules (test/fixtures/source/paddle_vit.py::VisionTransformer). */
export const VIT_TO_PADDLE_SOURCE_RULES = `
embeddings.cls_token                     -> patch_embedding.cls_token
embeddings.position_embeddings           -> patch_embedding.position_embeddings
embeddings.patch_embeddings.projection.* -> patch_embedding.patch_embedding.*
encoder.layer.{i}.layernorm_before.*     -> encoder.layers.{i}.attn_norm.*
encoder.layer.{i}.attention.attention.query.weight -> encoder.layers.{i}.attn.q.weight | transpose
encoder.layer.{i}.attention.attention.query.bias   -> encoder.layers.{i}.attn.q.bias
encoder.layer.{i}.attention.attention.key.weight   -> encoder.layers.{i}.attn.k.weight | transpose
encoder.layer.{i}.attention.attention.key.bias     -> encoder.layers.{i}.attn.k.bias
encoder.layer.{i}.attention.attention.value.weight -> encoder.layers.{i}.attn.v.weight | transpose
encoder.layer.{i}.attention.attention.value.bias   -> encoder.layers.{i}.attn.v.bias
encoder.layer.{i}.attention.output.dense.weight -> encoder.layers.{i}.attn.proj.weight | transpose
encoder.layer.{i}.attention.output.dense.bias   -> encoder.layers.{i}.attn.proj.bias
encoder.layer.{i}.layernorm_after.*             -> encoder.layers.{i}.mlp_norm.*
encoder.layer.{i}.intermediate.dense.weight     -> encoder.layers.{i}.mlp.fc1.weight | transpose
encoder.layer.{i}.intermediate.dense.bias       -> encoder.layers.{i}.mlp.fc1.bias
encoder.layer.{i}.output.dense.weight           -> encoder.layers.{i}.mlp.fc2.weight | transpose
encoder.layer.{i}.output.dense.bias             -> encoder.layers.{i}.mlp.fc2.bias
layernorm.* -> encoder.encoder_norm.*
pooler.*    -> drop
`;

/** test/fixtures/convert's round-trip source → its fused Paddle-layout twin: every kind of transform. */
export const RT_FUSED_RULES = `
[enc.q.weight, enc.k.weight, enc.v.weight] -> qkv.weight | cat(0) | transpose
[enc.q.bias, enc.k.bias, enc.v.bias] -> qkv.bias | cat(0)
conv.weight -> conv.weight | permute(2, 3, 1, 0)
cls -> cls | squeeze(0) | squeeze(0)
fc.weight -> fc.weight | transpose | cast(F32)
ids -> ids
`;

/** T5 with the tied shared.weight feeding both embeddings, cast to fp16 (test/fixtures/mapping). */
export const T5_TIED_RULES = `
shared.weight -> encoder.embed_tokens.weight | cast(F16)
shared.weight -> decoder.embed_tokens.weight | cast(F16)
encoder.block.{i}.* -> encoder.block.{i}.* | cast(F16)
decoder.block.{i}.* -> decoder.block.{i}.* | cast(F16)
encoder.final_layer_norm.weight -> encoder.final_layer_norm.weight | cast(F16)
decoder.final_layer_norm.weight -> decoder.final_layer_norm.weight | cast(F16)
`;
