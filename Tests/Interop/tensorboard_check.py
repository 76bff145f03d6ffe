"""TensorBoard's own reader against metrics.jsonl: every scalar Tandem logged, at the same steps
with the same values (float32), none repeated after a resume, nothing extra, and the config text.
Usage: PYTHON tensorboard_check.py RUN_DIR (PYTHON with the tensorboard package from PyPI)."""
import json, sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
run = sys.argv[1]
acc = EventAccumulator(run + "/tensorboard", size_guidance={"scalars": 0, "tensors": 0})
acc.Reload()
tags = acc.Tags()
rows = [json.loads(l) for l in open(run + "/metrics.jsonl")]
expected = {}
for r in rows:
    for k in ["loss", "accuracy", "lr", "samples_per_s", "comm_wait_ms"]:
        if r.get(k) is not None:
            expected.setdefault(f"{r['split']}/{k}", []).append((r["step"], r[k]))
bad = []
for tag, want in expected.items():
    got = [(e.step, e.value) for e in acc.Scalars(tag)]
    if len(got) != len(want) or any(gs != ws or abs(gv - wv) > 1e-6 * max(1, abs(wv)) for (gs, gv), (ws, wv) in zip(got, want)):
        bad.append(f"{tag}: tensorboard {got[:4]}... ({len(got)}) vs metrics {want[:4]}... ({len(want)})")
extra = set(tags["scalars"]) - set(expected)
text = tags.get("tensors", [])
print(json.dumps({"scalar_tags": sorted(tags["scalars"]), "tensor_tags": text, "bad": bad, "extra": sorted(extra)}))
sys.exit(1 if bad or extra or not expected or "config" not in text else 0)
