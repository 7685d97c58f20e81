"""Start to ready on SQLite: spawn `tessera serve` in a fresh data dir and poll /readyz until it answers 200.
Prints the median of N starts in milliseconds."""
import os, socket, subprocess, sys, tempfile, time, urllib.request

binary, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5
times = []
for _ in range(runs):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, TESSERA_LISTEN=f"127.0.0.1:{port}", TESSERA_DATA_DIR=d)
        start = time.monotonic()
        p = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    if urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1).status == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() - start > 10:
                    sys.exit("never ready")
                time.sleep(0.002)
            times.append((time.monotonic() - start) * 1000)
        finally:
            p.terminate(); p.wait()
times.sort()
print(round(times[len(times) // 2]))
