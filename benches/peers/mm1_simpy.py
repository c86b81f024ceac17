"""The same M/M/1 as benches/peers/mm1.ron, in SimPy, the usual way.

Prints one line: requests, wall seconds, requests per second, mean response ms.
It records only a running sum; archbench also fills latency histograms.
"""
import random
import sys
import time

import simpy


def main(n):
    lam, mu = 900.0, 1000.0
    rng = random.Random(1)
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=1)
    done = [0, 0.0]

    def customer(env):
        arrived = env.now
        with server.request() as request:
            yield request
            yield env.timeout(rng.expovariate(mu))
        done[0] += 1
        done[1] += env.now - arrived

    def source(env):
        for _ in range(n):
            yield env.timeout(rng.expovariate(lam))
            env.process(customer(env))

    env.process(source(env))
    start = time.perf_counter()
    env.run()
    seconds = time.perf_counter() - start
    print(f"{done[0]} {seconds:.3f} {done[0] / seconds:.0f} {done[1] / done[0] * 1e3:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]))
