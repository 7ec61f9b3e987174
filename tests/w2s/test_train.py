"""The training loop's optimizer and thread limit."""

import subprocess
import sys

import pytest
import torch

from w2s.train import AdamW


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_adamw_updates_bitwise_as_torch_optim_does(weight_decay):
    torch.manual_seed(0)
    x, y = torch.randn(300, 32), (torch.rand(300) > 0.5).float()
    ours, theirs = torch.nn.Linear(32, 1), torch.nn.Linear(32, 1)
    theirs.load_state_dict(ours.state_dict())
    optimizers = [
        (ours, AdamW(ours.parameters(), lr=3e-3, weight_decay=weight_decay)),
        (theirs, torch.optim.AdamW(theirs.parameters(), lr=3e-3, weight_decay=weight_decay)),
    ]
    for _ in range(200):
        batch = torch.randint(0, 300, (64,))
        for model, optimizer in optimizers:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x[batch]).squeeze(-1), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    assert torch.equal(ours.weight, theirs.weight) and torch.equal(ours.bias, theirs.bias)


def run_python(code: str, **env: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PATH": "/usr/bin", **env}
    ).stdout.strip()


def test_training_imports_no_dynamo_and_holds_the_thread_limit():
    code = (
        "import sys, numpy as np, torch\n"
        "from w2s.tasks import TrainConfig\n"
        "from w2s.train import train_loop\n"
        "from w2s.losses import get_loss\n"
        "head = torch.nn.Linear(8, 1)\n"
        "x = torch.randn(100, 8)\n"
        "train_loop(list(head.parameters()), lambda i: head(x[i]).squeeze(-1), np.random.rand(100).astype(np.float32),"
        " get_loss('xent'), TrainConfig(epochs=2), 0, 'cpu')\n"
        "from threadpoolctl import threadpool_info\n"
        "print(torch.get_num_threads(), {p['num_threads'] for p in threadpool_info()}, 'torch._dynamo' in sys.modules)"
    )
    assert run_python(code) == "1 {1} False"
    assert run_python(code, AAR_THREADS="2") == "2 {2} False"
    assert run_python(code, OMP_NUM_THREADS="2") == "2 {2} False"  # what the method jail passes
