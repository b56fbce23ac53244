"""Significance tests for survey-based indicators (SPI 2a, KDI, SPI 10b, SPI 1e, SPI 3b ...).

The method is the one calibrated in the project's SPI statistics research note
against the 2008 HMIC Cambridgeshire report: a pooled two-proportion z-test on
effective sample sizes n / deft² (Kish design effect), two-sided, with the
verdict turned into better / same / worse by the indicator's direction of good.
It reproduces every seed verdict and the three figures of the report's
Appendix 2 (±3 at 81% of 1,000; about 2 pp for user satisfaction; about 4 pp
for the BCS).

Every parameter (design factor, sample sizes, confidence level, direction of
good) is an argument: policy staff declare them in the rule files, and nothing
here may assume a survey. Percentages in and out are on the 0–100 scale.

Invalid arguments raise ``ValueError`` with a plain message naming the
argument and the value; the caller adds the file and line.

Degenerate inputs. The pooled variance p̄(100 − p̄)(1/e1 + 1/e2) is zero only
when p̄ is 0 or 100, and because both effective sizes are positive that happens
only when *both* proportions are 0 or *both* are 100 — so the difference is
zero too, and z is defined as 0 (verdict "same"). Any non-zero difference,
including 0% against 100%, has a pooled p̄ strictly inside (0, 100) and so a
finite z (0% vs 100% on equal effective sizes e gives z = −√(2e)). No ±inf
and no sentinel is ever returned. Only floating-point underflow or overflow
from absurd inputs (say n = 1e-310 or 1e308, or a percentage of 1e-320) could
break this, and that raises ``ValueError`` rather than returning a non-finite
number.
"""

from __future__ import annotations

import math
import numbers

try:  # the C function NormalDist.inv_cdf calls; importing `statistics` would also import fractions and decimal
    from _statistics import _normal_dist_inv_cdf
except ImportError:  # an interpreter without the C accelerator: NormalDist's own
    _normal_dist_inv_cdf = None

from assessor.record import Record

__all__ = [
    "BETTER",
    "SAME",
    "WORSE",
    "VERDICTS",
    "Comparison",
    "compare",
    "effective_size",
    "interval",
    "minimum_detectable_difference",
    "two_proportion_z",
    "verdict",
    "z_critical",
]

BETTER = "better"
SAME = "same"
WORSE = "worse"
VERDICTS = (BETTER, SAME, WORSE)


class Comparison(Record):
    """One indicator compared with a reference (MSF average, or its own earlier figure)."""

    value: float  # force figure, %
    reference: float  # MSF average or previous figure, %
    difference_pp: float  # value - reference, percentage points (unrounded)
    z: float  # pooled two-proportion z on effective sample sizes, sign of (value - reference)
    critical: float  # the critical |z| for the confidence level, e.g. 1.959964
    verdict: str  # 'better' | 'same' | 'worse' after the direction of good is applied
    margin_pp: float  # smallest |difference| that would be significant, pp (see compare)


# --- validation -------------------------------------------------------------


def _number(name: str, x: object) -> float:
    # bool is an int subclass, but `n: yes` in a YAML file is a mistake, not 1.
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise ValueError(f"{name} must be a number, got {x!r}")
    try:
        f = float(x)
    except OverflowError:
        raise ValueError(f"{name} must be a finite number, got {x!r}") from None
    if not math.isfinite(f):
        raise ValueError(f"{name} must be a finite number, got {x!r}")
    return f


def _percentage(name: str, x: object) -> float:
    f = _number(name, x)
    if not 0.0 <= f <= 100.0:
        raise ValueError(f"{name} must be a percentage from 0 to 100, got {x!r}")
    return f


def _size(name: str, x: object) -> float:
    f = _number(name, x)
    if f <= 0.0:
        raise ValueError(f"{name} must be a sample size greater than 0, got {x!r}")
    return f


def _design_factor(name: str, x: object) -> float:
    f = _number(name, x)
    if f <= 0.0:
        raise ValueError(f"{name} must be a design factor greater than 0, got {x!r}")
    return f


def _confidence(x: object) -> float:
    f = _number("confidence", x)
    if not 0.0 < f < 1.0:
        raise ValueError(f"confidence must be a level strictly between 0 and 1 (e.g. 0.95), got {x!r}")
    return f


def _flag(name: str, x: object) -> bool:
    # Only a real bool: the string "false" is truthy and would silently invert the verdict.
    if not isinstance(x, bool):
        raise ValueError(f"{name} must be true or false, got {x!r}")
    return x


def _critical(x: object) -> float:
    f = _number("critical", x)
    if f <= 0.0:
        raise ValueError(f"critical must be a critical value greater than 0, got {x!r}")
    return f


# --- building blocks --------------------------------------------------------


def z_critical(confidence: float) -> float:
    """Two-sided critical value of the standard normal: Φ⁻¹(1 − α/2), α = 1 − confidence.

    0.95 gives 1.959964.
    """
    c = _confidence(confidence)
    # Working from the tail keeps precision for levels close to 1 (0.999999...).
    alpha = 1.0 - c
    z = -_standard_normal_quantile(alpha / 2.0) if 0.0 < alpha / 2.0 < 1.0 else math.nan
    if not (math.isfinite(z) and z > 0.0):
        raise ValueError(f"confidence {confidence!r} is too close to 0 or 1 to give a critical value")
    return z


def _standard_normal_quantile(p: float) -> float:
    """Φ⁻¹(p) for 0 < p < 1: `statistics.NormalDist().inv_cdf(p)`, bit for bit."""
    if _normal_dist_inv_cdf is None:
        from statistics import NormalDist

        return NormalDist().inv_cdf(p)
    return _normal_dist_inv_cdf(p, 0.0, 1.0)


def effective_size(n: float, design_factor: float) -> float:
    """Kish effective sample size n / deft², deft being the design factor (deff = deft²)."""
    size = _size("n", n)
    deft = _design_factor("design_factor", design_factor)
    e = size / (deft * deft)
    if not (math.isfinite(e) and e > 0.0):
        raise ValueError(
            f"sample size {n!r} with design factor {design_factor!r} gives no usable effective sample size"
        )
    return e


def _weighted_mean(a: float, e1: float, b: float, e2: float) -> float:
    if a == b:
        return a
    mean = (a * e1 + b * e2) / (e1 + e2)
    # Rounding can push the mean a hair outside [a, b] (e.g. past 100).
    return min(max(mean, min(a, b)), max(a, b))


def _pooled(p1: float, e1: float, p2: float, e2: float) -> tuple[float, float]:
    """(p̄, 100 − p̄), each pooled on its own.

    Pooling the complement separately keeps it positive when p̄ rounds to 100:
    100 % vs 99.99999999999999 % would otherwise have "no variance".
    """
    return _weighted_mean(p1, e1, p2, e2), _weighted_mean(100.0 - p1, e1, 100.0 - p2, e2)


def _standard_error(pooled: tuple[float, float], e1: float, e2: float) -> float:
    p, q = pooled
    variance = p * q * (1.0 / e1 + 1.0 / e2)
    if not math.isfinite(variance):
        raise ValueError("sample sizes are too extreme to test")
    return math.sqrt(variance)


def _z(p1: float, e1: float, p2: float, e2: float) -> tuple[float, tuple[float, float]]:
    """(z, (p̄, 100 − p̄)) for validated percentages and effective sizes."""
    pooled = _pooled(p1, e1, p2, e2)
    se = _standard_error(pooled, e1, e2)
    difference = p1 - p2
    if difference == 0.0:
        return 0.0, pooled  # covers both-0 and both-100, where se is 0
    if se == 0.0:
        # Unreachable in exact arithmetic (see the module docstring); only underflow gets here.
        raise ValueError(f"cannot test {p1!r} against {p2!r}: no variance at these sample sizes")
    z = difference / se
    if not math.isfinite(z):
        raise ValueError(f"cannot test {p1!r} against {p2!r}: sample sizes too extreme")
    return z, pooled


def two_proportion_z(p1: float, n1: float, p2: float, n2: float, deft1: float = 1.0, deft2: float = 1.0) -> float:
    """Pooled two-proportion z-test on effective sample sizes e = n / deft².

    z = (p1 − p2) / √(p̄(1 − p̄)(1/e1 + 1/e2)), p̄ the pooled proportion — the
    textbook score test (statsmodels ``proportions_ztest`` on effective counts).
    p1, p2 in %; positive z means p1 > p2. Equal proportions give exactly 0.
    """
    a = _percentage("p1", p1)
    b = _percentage("p2", p2)
    e1 = effective_size(_size("n1", n1), _design_factor("deft1", deft1))
    e2 = effective_size(_size("n2", n2), _design_factor("deft2", deft2))
    return _z(a, e1, b, e2)[0]


def interval(p: float, n: float, design_factor: float, confidence: float) -> tuple[float, float]:
    """Wald interval p ± z*·deft·√(p(1 − p)/n), in %, for display only.

    Clipped to 0–100 (as statsmodels does) because a share outside that range
    means nothing to a reader.
    81% of 1,000 at deft 1.2 and 95% gives 78.08–83.92 (the report's "78–84").
    """
    pct = _percentage("p", p)
    e = effective_size(n, design_factor)
    half = z_critical(confidence) * math.sqrt(pct * (100.0 - pct) / e)
    return max(pct - half, 0.0), min(pct + half, 100.0)


def minimum_detectable_difference(p: float, n1: float, n2: float, design_factor: float, confidence: float) -> float:
    """Smallest difference (pp) the test calls significant when both figures are near p.

    MDD = z*·deft·√(p(1 − p)(1/n1 + 1/n2)), the pooled test's threshold solved
    for the difference. At p = 0 or 100 it is 0: there is no sampling variance
    to overcome, so the approximation says nothing useful there.
    """
    pct = _percentage("p", p)
    e1 = effective_size(_size("n1", n1), design_factor)
    e2 = effective_size(_size("n2", n2), design_factor)
    return z_critical(confidence) * _standard_error((pct, 100.0 - pct), e1, e2)


def verdict(z: float, higher_is_better: bool, critical: float) -> str:
    """'better', 'same' or 'worse' from z and the direction of good.

    g = z if higher is better, else −z; g ≥ critical is better, g ≤ −critical
    is worse. A z exactly at the critical value counts as significant (p ≤ α).
    """
    score = _number("z", z)
    if not _flag("higher_is_better", higher_is_better):
        score = -score
    limit = _critical(critical)
    if score >= limit:
        return BETTER
    if score <= -limit:
        return WORSE
    return SAME


def compare(
    value: float,
    n: float,
    reference: float,
    reference_n: float,
    *,
    design_factor: float,
    higher_is_better: bool,
    confidence: float,
) -> Comparison:
    """Compare a force figure with a reference figure by the pooled z-test.

    The same design factor applies to both samples (the MSF average and an
    earlier year come from the same survey). The published MSF average is used
    as an independent estimate with ``reference_n`` interviews; it is not
    corrected for containing the force, since that correction contradicts the
    seed report (research note §5).

    ``margin_pp`` is the MDD at the pooled proportion of this comparison, i.e.
    critical × the test's own standard error, so the verdict is "same" exactly
    when |difference_pp| < margin_pp (bar rounding at the boundary). It is 0
    only when both figures are 0 or both are 100; the difference is then 0 and
    the verdict "same".
    """
    v = _percentage("value", value)
    r = _percentage("reference", reference)
    deft = _design_factor("design_factor", design_factor)
    e1 = effective_size(_size("n", n), deft)
    e2 = effective_size(_size("reference_n", reference_n), deft)
    good_up = _flag("higher_is_better", higher_is_better)
    critical = z_critical(confidence)
    z, pooled = _z(v, e1, r, e2)
    return Comparison(
        value=v,
        reference=r,
        difference_pp=v - r,
        z=z,
        critical=critical,
        verdict=verdict(z, good_up, critical),
        margin_pp=critical * _standard_error(pooled, e1, e2),
    )
