"""Checks callsynth's VADER against the reference Python package, vaderSentiment 3.3.2.

1. Recomputes every line of the committed parity set with the installed package; a changed value
   fails (the set must be what the package says, not what callsynth says).
2. Generates random sentences from the package's own lexicon, boosters, negations, capitals,
   punctuation, emoticons and emoji, scores them with both, and compares within 1e-4.
3. With --bench, times both on the same sentences in one run.

Run through scripts/vader-oracle, which provides the virtualenv.
"""

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time

from vaderSentiment import vaderSentiment as vs

KEYS = ("compound", "pos", "neu", "neg")


def random_sentences(analyzer, n, seed):
    rng = random.Random(seed)
    lexicon = sorted(analyzer.lexicon)
    emoji = sorted(k for k in analyzer.emojis if len(k) == 1)
    boosters = sorted(vs.BOOSTER_DICT)
    negations = sorted(vs.NEGATE)
    plain = ["the", "agent", "call", "order", "refund", "it", "was", "is", "i", "you", "my", "but", "and", "or",
             "nor", "no", "least", "at", "very", "so", "this", "never", "without", "doubt", "kind", "of", "sort",
             "yeah", "right", "bus", "stop", "the", "shit", "bomb", "bad", "ass", "to", "die", "for", "Na", "12"]
    pools = [lexicon, lexicon, plain, plain, boosters, negations]
    out = []
    while len(out) < n:
        words = []
        for _ in range(rng.randint(1, 18)):
            pool = rng.choice(pools)
            w = rng.choice(pool)
            r = rng.random()
            if r < 0.12:
                w = w.upper()
            elif r < 0.18:
                w = w.capitalize()
            if rng.random() < 0.08:
                w = w + rng.choice([",", ".", "!", "?", "!!", "...", ":)", "'"])
            if rng.random() < 0.03:
                w = rng.choice(emoji) + (" " if rng.random() < 0.5 else "") + w
            words.append(w)
        s = " ".join(words) + rng.choice(["", ".", "!", "!!!", "?", "???", "?!", " :(", " 😀"])
        if "\n" in s or "\r" in s:
            continue
        out.append(s)
    return out


def callsynth_scores(binary, sentences):
    data = ("\n".join(sentences) + "\n").encode("utf-8")
    start = time.perf_counter()
    done = subprocess.run([binary, "analyze", "sentiment"], input=data, capture_output=True, check=True)
    elapsed = time.perf_counter() - start
    rows = [json.loads(line) for line in done.stdout.decode("utf-8").splitlines()]
    if len(rows) != len(sentences):
        sys.exit(f"callsynth printed {len(rows)} rows for {len(sentences)} sentences")
    return rows, elapsed


def callsynth_seconds(binary, path):
    """Wall time of `callsynth analyze sentiment < path > /dev/null`: the tool alone, no pipes."""
    with open(path, "rb") as stdin:
        start = time.perf_counter()
        subprocess.run([binary, "analyze", "sentiment"], stdin=stdin, stdout=subprocess.DEVNULL, check=True)
        return time.perf_counter() - start


def compare(analyzer, binary, sentences, label):
    ours, _ = callsynth_scores(binary, sentences)
    bad = []
    for text, got in zip(sentences, ours):
        want = analyzer.polarity_scores(text)
        if any(abs(got[k] - want[k]) > 1e-4 for k in KEYS):
            bad.append(f"{text!r}: callsynth {got}, vaderSentiment {want}")
    print(f"{label}: {len(sentences) - len(bad)}/{len(sentences)} equal within 1e-4")
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--random", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--bench", action="store_true")
    ap.add_argument("--bench-rounds", type=int, default=5)
    args = ap.parse_args()
    analyzer = vs.SentimentIntensityAnalyzer()
    failures = []

    with open(args.dataset, encoding="utf-8") as f:
        cases = [json.loads(line) for line in f]
    stale = [c["text"] for c in cases if any(analyzer.polarity_scores(c["text"])[k] != c[k] for k in KEYS)]
    print(f"parity set: {len(cases) - len(stale)}/{len(cases)} lines are the package's own output")
    failures += [f"parity set line differs from the package: {t!r}" for t in stale]
    failures += compare(analyzer, args.binary, [c["text"] for c in cases], "parity set")

    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    sentences = random_sentences(analyzer, args.random, seed)
    failures += compare(analyzer, args.binary, sentences, f"random sentences (seed {seed})")

    if args.bench:
        # Alternating rounds on this shared machine; medians of each side.
        texts = [c["text"] for c in cases]
        reps = max(1, 20000 // len(texts))
        big = texts * max(1, 400000 // len(texts))
        py_rates, rs_rates = [], []
        big_file = tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False)
        big_file.write("\n".join(big) + "\n")
        big_file.close()
        for _ in range(args.bench_rounds):
            start = time.perf_counter()
            for _ in range(reps):
                for t in texts:
                    analyzer.polarity_scores(t)
            py_rates.append(reps * len(texts) / (time.perf_counter() - start))
            rs_rates.append(len(big) / callsynth_seconds(args.binary, big_file.name))
        py, rs = sorted(py_rates)[len(py_rates) // 2], sorted(rs_rates)[len(rs_rates) // 2]
        print(f"{len(texts)} parity-set sentences, {args.bench_rounds} alternating rounds, medians:")
        print(f"vaderSentiment 3.3.2 (CPython {sys.version.split()[0]}, in process, 1 thread): {py:,.0f} sentences/s")
        print(f"callsynth analyze sentiment (whole process, file to /dev/null, 2 threads): {rs:,.0f} sentences/s")
        print(f"ratio: {rs / py:.1f}x")

    if failures:
        print("\n".join(failures[:50]), file=sys.stderr)
        sys.exit(f"{len(failures)} differences")


if __name__ == "__main__":
    main()
