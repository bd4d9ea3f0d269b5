/** Bench support: the LLaMA-shaped GGUF (291 tensors, a 32,000-token vocabulary) written by gguf-py's GGUFWriter. */
export function llamaGgufScript(file: string): string {
  return [
    'import gguf, numpy as np',
    `w = gguf.GGUFWriter(${JSON.stringify(file)}, "llama")`,
    'w.add_block_count(32); w.add_context_length(4096); w.add_embedding_length(256); w.add_head_count(8)',
    'w.add_tokenizer_model("llama")',
    'w.add_token_list([f"tok{i}".encode() for i in range(32000)])',
    'w.add_token_scores([float(i) for i in range(32000)])',
    'w.add_token_types([1] * 32000)',
    'z = np.zeros((256, 256), dtype=np.float16)',
    'w.add_tensor("token_embd.weight", np.zeros((32000 // 128, 256), dtype=np.float16))',
    'for b in range(32):',
    '    for n in ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down", "attn_norm", "ffn_norm"]:',
    '        w.add_tensor(f"blk.{b}.{n}.weight", z)',
    'w.add_tensor("output_norm.weight", np.zeros(256, dtype=np.float32)); w.add_tensor("output.weight", z)',
    'w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()',
  ].join('\n');
}
