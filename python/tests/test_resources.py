"""Memory, threads and the GIL: each measured in a child process, so the numbers are the
child's own (peak RSS, its thread pool size) and not this test run's."""

import json
import os
import subprocess
import sys
import textwrap


def run_child(code: str, env=None) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_one_gib_array_costs_about_one_gib_of_peak_memory():
    """rust-numpy takes over the Rust allocation: no second copy at any point."""
    got = run_child(
        """
        import json, resource
        import numpy as np
        import weightinit as wi
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        w = wi.generate("he-normal", (16384, 16384), seed=0)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(json.dumps({"nbytes": w.nbytes, "grew": after - before,
                          "last": float(w[-1, -1]), "owner": type(w.base).__name__}))
        """
    )
    assert got["nbytes"] == 1 << 30
    assert got["last"] != 0.0
    # The array itself, plus the draw's bounded working buffers (a few MiB per thread).
    assert got["grew"] < got["nbytes"] * 1.05, got


def test_generation_uses_the_threads_it_is_given():
    """With a pool of 2 (RAYON_NUM_THREADS), 2 threads besides the main one do the drawing:
    each has CPU time of its own in /proc afterwards. (Speed itself is measured by
    bench/python_bench.py, not by a timed test: these machines are noisy.)"""
    code = """
        import json, os
        import weightinit as wi
        wi.generate("he-normal", (8192, 8192), seed=0)
        main = str(os.getpid())
        busy = 0
        for task in os.listdir("/proc/self/task"):
            if task == main:
                continue
            with open(f"/proc/self/task/{task}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            busy += int(fields[11]) + int(fields[12]) > 0   # utime + stime, in ticks
        print(json.dumps({"busy": busy}))
        """
    assert run_child(code, {"RAYON_NUM_THREADS": "2"})["busy"] >= 2


def test_the_gil_is_released_while_drawing():
    """Another Python thread keeps running while generate works."""
    got = run_child(
        """
        import json, threading
        import weightinit as wi
        started = threading.Event()
        def work():
            started.set()
            wi.generate("he-normal", (8192, 8192), seed=0)
        t = threading.Thread(target=work)
        t.start()
        started.wait()
        spins = 0
        while t.is_alive():
            spins += 1
        t.join()
        print(json.dumps({"spins": spins}))
        """
    )
    # Holding the GIL for the whole draw would leave a handful of spins at most.
    assert got["spins"] > 10_000, got


def test_ctrl_c_stops_write_and_leaves_nothing_behind(tmp_path):
    """SIGINT while write() streams 2 GiB: KeyboardInterrupt, quickly, and no file or
    temporary left in the directory."""
    import signal
    import time

    code = textwrap.dedent(
        f"""
        import sys, time, weightinit as wi
        print("start", flush=True)
        start = time.perf_counter()
        try:
            wi.write({str(tmp_path / 'big.npy')!r}, "he-normal", (32768, 16384), seed=0)
            print("finished", flush=True)
        except KeyboardInterrupt:
            print("interrupted", round(time.perf_counter() - start, 2), flush=True)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "start"
    time.sleep(0.4)
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=60)
    assert out.startswith("interrupted"), out
    assert list(tmp_path.iterdir()) == []
