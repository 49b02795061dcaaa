"""Checks benchmarks/torch_models.py against the reference outputs of the tiny fixture checkpoints.

    /usr/bin/python3 benchmarks/check.py [--shared ../shared]

For every fixture folder of a family the side-by-side benchmark covers, runs the plain PyTorch model on the fixture's
cases and compares last_hidden_state and the MLM logits with outputs.safetensors (float32 tolerances of the fixtures:
1e-5 on hidden states, 1e-4 on logits). Exit status 1 when any differs.
"""

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_models  # noqa: E402

FIXTURES = {
    "splicebert": "splicebert", "ernierna": "ernierna", "rnaernie": "rnaernie", "ncrnabert": "ncrnabert",
    "rnafm": "rnafm", "utrlm-te_el": "utrlm", "calm": "calm", "rinalmo": "rinalmo", "utrbert-3mer": "utrbert", "rnabert": "rnabert",
}


def main():
    parser = argparse.ArgumentParser()
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--shared", default=os.environ.get("RNALM_SHARED", os.path.join(os.path.dirname(repo), "shared")))
    args = parser.parse_args()
    failures = 0
    for folder, family in FIXTURES.items():
        directory = os.path.join(args.shared, "fixtures", "models", folder)
        model = torch_models.load(directory, os.path.join(repo, "Definitions", f"{family}.model.json"))
        expected = torch_models.load_safetensors(os.path.join(directory, "outputs.safetensors"))
        with open(os.path.join(directory, "cases.json")) as f:
            cases = json.load(f)
        worst = (0.0, 0.0)
        with torch.inference_mode():
            for case in cases:
                ids = torch.tensor(case["input_ids"])
                mask = torch.tensor(case["attention_mask"])
                hidden, logits = model.forward(ids, mask)
                h = (hidden - expected[case["name"] + ".last_hidden_state"]).abs().max().item()
                l = (logits - expected[case["name"] + ".mlm_logits"]).abs().max().item()
                worst = (max(worst[0], h), max(worst[1], l))
        ok = worst[0] <= 1e-5 and worst[1] <= 1e-4
        failures += not ok
        print(f"{folder:14} max |Δ| hidden {worst[0]:.2e}  logits {worst[1]:.2e}  {'ok' if ok else 'DIFFERS'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
