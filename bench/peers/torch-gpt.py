# The Shakespeare recipe of bench/gpt-shakespeare.bench.mjs in PyTorch on the CPU: the same model
# and trainer settings as nanoGPT's CPU run (char-level, first 90% train / last 10% val; 4 layers,
# 4 heads, 128 wide, block 64, batch 12; no biases, no dropout, learned positions, tanh or exact
# GELU, pre-LayerNorm, tied embeddings; normal(0.02) init with the residual projections scaled by
# 1/sqrt(2 * layers); AdamW lr 1e-3, betas (0.9, 0.99), weight decay 0.1 on 2-D tensors, linear
# warm-up 100 then cosine to 1e-4, clip 1.0). Prints one JSON line: ms/step of the training steps
# (evaluation excluded) and the validation loss: the mean over --eval-batches random batches, with
# its standard error.
# Usage: python3 torch-gpt.py <data.txt> [--steps N] [--threads N] [--seed N] [--gelu tanh|exact] [--eval-batches N]
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

parser = argparse.ArgumentParser()
parser.add_argument('data')
parser.add_argument('--steps', type=int, default=2000)
parser.add_argument('--threads', type=int, default=2)
parser.add_argument('--seed', type=int, default=1337)
parser.add_argument('--gelu', choices=['tanh', 'exact'], default='tanh')
parser.add_argument('--eval-batches', type=int, default=2000)
args = parser.parse_args()

torch.manual_seed(args.seed)
torch.set_num_threads(args.threads)
text = open(args.data, encoding='utf-8').read()
chars = sorted(set(text))
index = {c: i for i, c in enumerate(chars)}
data = torch.tensor([index[c] for c in text], dtype=torch.long)
split = int(0.9 * len(data))
splits = {'train': data[:split], 'val': data[split:]}
vocab, block, width, layers, heads, batch = len(chars), 64, 128, 4, 4, 12
gelu_approximate = 'tanh' if args.gelu == 'tanh' else 'none'


def get_batch(name):
    source = splits[name]
    starts = torch.randint(len(source) - block, (batch,))
    x = torch.stack([source[s:s + block] for s in starts])
    y = torch.stack([source[s + 1:s + 1 + block] for s in starts])
    return x, y


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm_attn = nn.LayerNorm(width, bias=False)
        self.qkv = nn.Linear(width, 3 * width, bias=False)
        self.attn_proj = nn.Linear(width, width, bias=False)
        self.norm_mlp = nn.LayerNorm(width, bias=False)
        self.fc = nn.Linear(width, 4 * width, bias=False)
        self.mlp_proj = nn.Linear(4 * width, width, bias=False)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(self.norm_attn(x)).split(width, dim=2)
        q, k, v = (z.view(b, t, heads, c // heads).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.attn_proj(y.transpose(1, 2).contiguous().view(b, t, c))
        return x + self.mlp_proj(F.gelu(self.fc(self.norm_mlp(x)), approximate=gelu_approximate))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, width)
        self.position_embedding = nn.Embedding(block, width)
        self.blocks = nn.ModuleList(Block() for _ in range(layers))
        self.norm_final = nn.LayerNorm(width, bias=False)
        self.head = nn.Linear(width, vocab, bias=False)
        self.head.weight = self.token_embedding.weight
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, 0.0, 0.02)
        for b in self.blocks:
            for weight in (b.attn_proj.weight, b.mlp_proj.weight):
                nn.init.normal_(weight, 0.0, 0.02 / math.sqrt(2 * layers))

    def forward(self, ids, targets):
        x = self.token_embedding(ids) + self.position_embedding(torch.arange(ids.size(1)))
        for b in self.blocks:
            x = b(x)
        logits = self.head(self.norm_final(x))
        return F.cross_entropy(logits.view(-1, vocab), targets.view(-1))


model = GPT()
decay = [p for p in model.parameters() if p.dim() >= 2]
no_decay = [p for p in model.parameters() if p.dim() < 2]
optimizer = torch.optim.AdamW(
    [{'params': decay, 'weight_decay': 0.1}, {'params': no_decay, 'weight_decay': 0.0}],
    lr=1e-3, betas=(0.9, 0.99))


def lr_at(step, warmup=100, lr=1e-3, min_lr=1e-4):
    if step < warmup:
        return lr * (step + 1) / (warmup + 1)
    progress = min((step - warmup) / max(args.steps - warmup, 1), 1.0)
    return min_lr + 0.5 * (1 + math.cos(math.pi * progress)) * (lr - min_lr)


started = time.perf_counter()
for step in range(args.steps):
    for group in optimizer.param_groups:
        group['lr'] = lr_at(step)
    loss = model(*get_batch('train'))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
seconds = time.perf_counter() - started

model.eval()
with torch.no_grad():
    batch_losses = [model(*get_batch('val')).item() for _ in range(args.eval_batches)]
val_loss = statistics.fmean(batch_losses)
print(json.dumps({'torch': torch.__version__, 'threads': args.threads, 'steps': args.steps, 'seed': args.seed,
                  'gelu': args.gelu, 'msPerStep': 1000 * seconds / args.steps, 'valLoss': val_loss,
                  'valLossSe': statistics.stdev(batch_losses) / math.sqrt(len(batch_losses)), 'evalBatches': args.eval_batches}))
