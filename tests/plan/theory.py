"""Queueing theory the planner is checked against, written out from the textbook formulas.

- Erlang C (M/M/c): P(wait) = C(c, a), a = lambda/mu; P(W > t) = C e^{-(c mu - lambda) t};
  mean wait C / (c mu - lambda) (Kleinrock, Queueing Systems I, 1975, s. 3.5).
- Erlang A (M/M/c+M, exponential patience theta): the birth-death chain with death rate
  min(n, c) mu + max(n - c, 0) theta; the share of callers who abandon is the mean abandonment
  rate over lambda (Garnett, Mandelbaum & Reiman, "Designing a call center with impatient
  customers", M&SOM 4(3), 2002).
"""

from __future__ import annotations

import math


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in M/M/c with offered load a (< c)."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def mmc_wait_quantile(lam: float, mu: float, c: int, q: float) -> float:
    """The q-quantile of the M/M/c wait (0 when fewer than 1 - q of arrivals wait)."""
    if lam >= c * mu:
        return math.inf
    p = erlang_c(c, lam / mu)
    return 0.0 if p <= 1 - q else math.log(p / (1 - q)) / (c * mu - lam)


def mmc_mean_wait(lam: float, mu: float, c: int) -> float:
    return math.inf if lam >= c * mu else erlang_c(c, lam / mu) / (c * mu - lam)


def erlang_a_abandonment(lam: float, mu: float, c: int, theta: float, states: int = 4000) -> float:
    """Share of arrivals who abandon in M/M/c+M (stationary, by the birth-death chain)."""
    log_pi = [0.0]
    for n in range(1, states):
        death = min(n, c) * mu + max(n - c, 0) * theta
        log_pi.append(log_pi[-1] + math.log(lam / death))
    top = max(log_pi)
    pi = [math.exp(x - top) for x in log_pi]
    total = sum(pi)
    return sum(p * max(n - c, 0) * theta for n, p in enumerate(pi)) / total / lam


def smallest_c(ok, start: int = 1, most: int = 200) -> int:
    """The smallest c >= start for which ok(c) holds."""
    for c in range(start, most):
        if ok(c):
            return c
    raise ValueError("no c meets it")
