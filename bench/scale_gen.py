#!/usr/bin/env python3
"""Writes a Kaggle-snapshot JSONL file of N records for `bench/scale.sh`.

The records are the shared arXiv data set's (74,728 papers), cycled until N
lines are written, in the shape of the Kaggle "arXiv metadata OAI snapshot"
(`id, submitter, authors, title, comments, journal-ref, doi, report-no,
categories, license, abstract, versions, update_date, authors_parsed`), so
that lines are as long as real Kaggle lines with the same text.

* Ids are new and unique: `YYMM.NNNNN` in months arXiv has not used yet
  (2040 on: `4001.00001`, ...), one id month per listing month.
* Listing dates (the day v1 was created, which the Kaggle importer lists a
  paper on) are spread over the weekdays of 18 months, June 2025 to
  November 2026, in id order: about 55,000 papers a month for N = 1,000,000.
* Every pass over the source after the first varies the text a little: the
  title gets a ` [rK]` suffix (so that title keys stay distinct) and the
  abstract's sentences are rotated by K, so texts (and their hashes) differ.
* About one record in eight has a second version a few days later.

    python3 bench/scale_gen.py SOURCE.jsonl.zst N OUT.jsonl
"""

import datetime as dt
import io
import json
import subprocess
import sys

LICENSE = "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
FIRST_DAY = dt.date(2025, 6, 2)
LAST_DAY = dt.date(2026, 11, 30)
ID_YEAR = 40  # ids 4001.NNNNN on: months arXiv has not reached


def weekdays(first, last):
    d, out = first, []
    while d <= last:
        if d.weekday() < 5:
            out.append(d)
        d += dt.timedelta(days=1)
    return out


def rfc2822(day, seconds):
    t = dt.datetime.combine(day, dt.time(0, 0)) + dt.timedelta(seconds=seconds)
    return t.strftime("%a, %-d %b %Y %H:%M:%S GMT")


def split_name(name):
    parts = name.split()
    if len(parts) < 2:
        return [name, "", ""]
    return [parts[-1], " ".join(parts[:-1]), ""]


def rotate_sentences(text, k):
    sentences = [s for s in text.replace("\n", " ").split(". ") if s]
    if len(sentences) < 2:
        return text + f" (r{k})"
    k %= len(sentences)
    rotated = sentences[k:] + sentences[:k]
    return ". ".join(s.rstrip(".") for s in rotated) + "."


def load(source):
    raw = subprocess.run(["zstd", "-dc", source], check=True, capture_output=True).stdout
    return [json.loads(line) for line in io.BytesIO(raw) if line.strip()]


def main():
    source, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    papers = load(source)
    days = weekdays(FIRST_DAY, LAST_DAY)
    per_month = {}
    with open(out, "w", encoding="utf-8") as f:
        for i in range(n):
            src = papers[i % len(papers)]
            k = i // len(papers)
            day = days[i * len(days) // n]
            yymm = f"{ID_YEAR + (day.year - FIRST_DAY.year):02d}{day.month:02d}"
            seq = per_month.get(yymm, 0) + 1
            per_month[yymm] = seq
            title = src["title"] if k == 0 else f"{src['title']} [r{k}]"
            abstract = src.get("abstract") or ""
            if k > 0:
                abstract = rotate_sentences(abstract, k)
            authors = src.get("authors") or []
            created = rfc2822(day, 36000 + (i * 7919) % 30000)
            versions = [{"version": "v1", "created": created}]
            update = day
            if i % 8 == 3:
                update = day + dt.timedelta(days=3 + i % 11)
                versions.append({"version": "v2", "created": rfc2822(update, 50000)})
            cats = src.get("categories") or []
            rec = {
                "id": f"{yymm}.{seq:05d}",
                "submitter": authors[0] if authors else None,
                "authors": ", ".join(authors),
                "title": title,
                "comments": src.get("comment"),
                "journal-ref": None,
                "doi": None,
                "report-no": None,
                "categories": " ".join(cats),
                "license": LICENSE,
                "abstract": abstract,
                "versions": versions,
                "update_date": update.isoformat(),
                "authors_parsed": [split_name(a) for a in authors],
            }
            f.write(json.dumps(rec, ensure_ascii=False))
            f.write("\n")
    busiest = max(per_month.values())
    print(f"wrote {n} records to {out}: {len(per_month)} months, at most {busiest} papers a month")


if __name__ == "__main__":
    main()
