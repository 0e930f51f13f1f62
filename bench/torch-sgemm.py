# The same shapes as MatmulBench (tokens x rows x cols) through torch.matmul on 2 threads, for the GFLOP/s column
# beside lowbit's kernels in one run: python3 bench/torch-sgemm.py (needs torch; the build never does).
# torch sgemm GFLOP/s on the MatmulBench shapes, 2 threads: x [tokens x cols] @ w.T [cols x rows]
import time, torch, sys
torch.set_num_threads(2)
for shape in ["512x2048x768", "512x768x2048", "512x2048x2048"]:
    t, r, c = map(int, shape.split("x"))
    x = torch.rand(t, c) - 0.5; w = torch.rand(r, c) - 0.5
    for _ in range(5): torch.matmul(x, w.t())
    rates = []
    for rep in range(7):
        n = 20; t0 = time.perf_counter()
        for _ in range(n): torch.matmul(x, w.t())
        rates.append(2.0 * t * r * c * n / (time.perf_counter() - t0) / 1e9)
    rates.sort()
    print(f"torch sgemm {shape}: median {rates[3]:.1f} GFLOP/s (min {rates[0]:.1f}, max {rates[-1]:.1f})")
