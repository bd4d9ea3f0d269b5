# The model class the example port writes into: a ViT written for Paddle the way hand ports often are.
# PatchEmbedding owns the class token and the position embeddings (paddle.create_parameter), the blocks
# are an nn.LayerList, Paddle nn.Linear weights are stored [in, out], and every size is a constructor
# default of ViT-Base — port.tpmap's `set` lines build the tiny checkpoint's model from it. Tensor Port
# reads this file; it never imports or runs it.
import paddle
import paddle.nn as nn
import paddle.nn.functional as F


class PatchEmbedding(nn.Layer):
    def __init__(self, image_size=224, patch_size=16, in_channels=3, embed_dim=768):
        super().__init__()
        n_patches = (image_size // patch_size) * (image_size // patch_size)
        self.proj = nn.Conv2D(in_channels, embed_dim, kernel_size=patch_size, stride=patch_size)
        self.cls_token = paddle.create_parameter(
            shape=[1, 1, embed_dim], dtype='float32',
            default_initializer=nn.initializer.Constant(0.0))
        self.pos_embed = paddle.create_parameter(
            shape=[1, n_patches + 1, embed_dim], dtype='float32',
            default_initializer=nn.initializer.TruncatedNormal(std=0.02))

    def forward(self, x):
        x = self.proj(x).flatten(2).transpose([0, 2, 1])
        cls = self.cls_token.expand([x.shape[0], -1, -1])
        return paddle.concat([cls, x], axis=1) + self.pos_embed


class Attention(nn.Layer):
    def __init__(self, embed_dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.q = nn.Linear(embed_dim, embed_dim)
        self.k = nn.Linear(embed_dim, embed_dim)
        self.v = nn.Linear(embed_dim, embed_dim)
        self.proj = nn.Linear(embed_dim, embed_dim)

    def split(self, t):
        b, n = t.shape[0], t.shape[1]
        return t.reshape([b, n, self.num_heads, self.head_dim]).transpose([0, 2, 1, 3])

    def forward(self, x):
        b, n, d = x.shape
        q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
        attn = F.softmax(paddle.matmul(q, k, transpose_y=True) * self.head_dim ** -0.5, axis=-1)
        out = paddle.matmul(attn, v).transpose([0, 2, 1, 3]).reshape([b, n, d])
        return self.proj(out)


class Mlp(nn.Layer):
    def __init__(self, embed_dim, mlp_ratio):
        super().__init__()
        self.fc1 = nn.Linear(embed_dim, int(embed_dim * mlp_ratio))
        self.fc2 = nn.Linear(int(embed_dim * mlp_ratio), embed_dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class EncoderLayer(nn.Layer):
    def __init__(self, embed_dim, num_heads, mlp_ratio):
        super().__init__()
        self.attn_norm = nn.LayerNorm(embed_dim, epsilon=1e-6)
        self.attn = Attention(embed_dim, num_heads)
        self.mlp_norm = nn.LayerNorm(embed_dim, epsilon=1e-6)
        self.mlp = Mlp(embed_dim, mlp_ratio)

    def forward(self, x):
        x = x + self.attn(self.attn_norm(x))
        return x + self.mlp(self.mlp_norm(x))


class VisionTransformer(nn.Layer):
    def __init__(self, image_size=224, patch_size=16, in_channels=3, embed_dim=768, depth=12, num_heads=12, mlp_ratio=4):
        super().__init__()
        self.patch_embed = PatchEmbedding(image_size, patch_size, in_channels, embed_dim)
        self.layers = nn.LayerList([EncoderLayer(embed_dim, num_heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim, epsilon=1e-6)

    def forward(self, x):
        x = self.patch_embed(x)
        for layer in self.layers:
            x = layer(x)
        return self.norm(x)
