"""Step 2 of 3 of the scale-out path (docs/scale-out.md): train a model that wasmformer exported
in the Hugging Face layout with PyTorch's DistributedDataParallel, then save it with
save_pretrained (model.safetensors) for wasmformer to load back.

Each process draws its own random windows of the training tokens; DDP averages the gradients,
so every process holds the same weights after each step. On CPUs the processes talk over gloo;
on GPUs use --backend nccl (one process per GPU). One machine, two processes:

  python -m torch.distributed.run --standalone --nproc_per_node 2 examples/scale-out/train_ddp.py \
      --model runs/scale-out/exported --out runs/scale-out/trained

Several machines: the same script under `torchrun --nnodes N --node_rank I --rdzv_endpoint HOST:PORT`.
Needs: pip install torch transformers safetensors (examples/scale-out/requirements.txt).
"""
import argparse
import json
import os
import shutil

import torch
import torch.distributed as dist
import torch.nn.functional as F
from tokenizers import Tokenizer
from torch.nn.parallel import DistributedDataParallel
from transformers import AutoModelForCausalLM

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--model", required=True, help="the directory export.mjs wrote")
parser.add_argument("--out", required=True, help="where to save the trained model")
parser.add_argument("--data", help="the corpus (default: the file recorded in scale-out.json)")
parser.add_argument("--steps", type=int, default=300)
parser.add_argument("--batch-size", type=int, default=12, help="windows per process and step")
parser.add_argument("--lr", type=float, default=1e-3)
parser.add_argument("--backend", default="gloo", help="gloo (CPU) or nccl (GPU)")
parser.add_argument("--tiny", action="store_true", help="30 steps (what the test runs)")
args = parser.parse_args()
steps = 30 if args.tiny else args.steps

dist.init_process_group(backend=args.backend)
rank, world = dist.get_rank(), dist.get_world_size()
device = torch.device(f"cuda:{int(os.environ['LOCAL_RANK'])}" if args.backend == "nccl" else "cpu")
if device.type == "cpu":
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(os.environ.get("LOCAL_WORLD_SIZE", "1"))))

# The same corpus, tokens and held-out windows as examples/scale-out/heldout.mjs.
with open(os.path.join(args.model, "scale-out.json"), encoding="utf-8") as f:
    setup = json.load(f)
with open(args.data or setup["data"], encoding="utf-8") as f:
    text = f.read()
if setup["lines"] is not None:
    text = "\n".join(text.split("\n")[: setup["lines"]])
ids = torch.tensor(Tokenizer.from_file(os.path.join(args.model, "tokenizer.json")).encode(text).ids, dtype=torch.long)
n_val = len(ids) // 10
train, val = ids[: len(ids) - n_val], ids[len(ids) - n_val :]
T, windows = setup["blockSize"], setup["windows"]
held_out = (val[: windows * T].view(windows, T), val[1 : windows * T + 1].view(windows, T))


def loss_of(model, inputs, targets):
    """Mean next-token cross-entropy; logits [B, T, V], targets [B, T]."""
    logits = model(input_ids=inputs).logits
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))


@torch.no_grad()
def held_out_loss(model):
    model.eval()
    loss = loss_of(model, held_out[0].to(device), held_out[1].to(device)).item()
    model.train()
    return loss


model = AutoModelForCausalLM.from_pretrained(args.model).to(device)
before = held_out_loss(model)
ddp = DistributedDataParallel(model)
optimizer = torch.optim.AdamW(ddp.parameters(), lr=args.lr, betas=(0.9, 0.99), weight_decay=0.1)
generator = torch.Generator().manual_seed(1000 + rank)  # each process its own windows
for step in range(1, steps + 1):
    starts = torch.randint(0, len(train) - T, (args.batch_size,), generator=generator)
    inputs = torch.stack([train[s : s + T] for s in starts]).to(device)
    targets = torch.stack([train[s + 1 : s + T + 1] for s in starts]).to(device)
    loss = loss_of(ddp, inputs, targets)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()  # DDP averages the gradients of all processes here
    torch.nn.utils.clip_grad_norm_(ddp.parameters(), 1.0)
    optimizer.step()
    if rank == 0 and (step % 50 == 0 or step == steps):
        print(f"step {step}: loss {loss.item():.4f} (process 0 of {world})", flush=True)

# Every process holds the same weights (DDP's point): compare a checksum across processes.
checksum = torch.tensor([sum(p.detach().double().sum().item() for p in model.parameters())], dtype=torch.float64, device=device)
checksums = [torch.zeros_like(checksum) for _ in range(world)]
dist.all_gather(checksums, checksum)
if rank == 0:
    same = all(c.item() == checksums[0].item() for c in checksums)
    print(f"weights identical in all {world} processes: {'yes' if same else 'NO'}", flush=True)
    after = held_out_loss(model)
    print(f"held-out loss, PyTorch ({world} processes): before {before:.6f}, after {after:.6f}", flush=True)
    model.save_pretrained(args.out)  # config.json + model.safetensors
    for name in ("tokenizer.json", "vocab.json", "merges.txt", "scale-out.json"):
        if os.path.exists(os.path.join(args.model, name)):
            shutil.copy(os.path.join(args.model, name), args.out)
    print(f"saved to {args.out}", flush=True)
dist.barrier()
dist.destroy_process_group()
