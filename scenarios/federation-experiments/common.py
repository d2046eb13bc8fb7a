"""What the federation experiments share: a mean with its 95 % interval, and a change in %."""
import math
import statistics


def ci(xs, fmt="{:+.1f}"):
    """mean [low, high]: a 95 % interval of the mean (normal, 1.96 standard errors); one value
    alone as it is, none as "-"."""
    if len(xs) < 2:
        return fmt.format(xs[0]) if xs else "-"
    m = statistics.mean(xs)
    h = 1.96 * statistics.stdev(xs) / math.sqrt(len(xs))
    return f"{fmt.format(m)} [{fmt.format(m - h)}, {fmt.format(m + h)}]"


def pct(a, b):
    """a against b, in %."""
    return 100 * (a / b - 1)
