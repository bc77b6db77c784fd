"""The synthetic log: calibrated to the real mini log, reproducible, consistent with its ground truth."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest

from sparkify.app.cli import main
from sparkify.generator.ceiling import load_observable_ceiling
from sparkify.generator.corrupt import FAULT_KINDS
from sparkify.generator.stats import compare_to_real_mini, format_checks, log_statistics
from sparkify.generator.truth import load_ground_truth
from sparkify.ml.evaluation.metrics import auc_roc

REAL_KEYS = [
    "ts", "userId", "sessionId", "page", "auth", "method", "status", "level", "itemInSession", "location",
    "userAgent", "lastName", "firstName", "registration", "gender", "artist", "song", "length",
]  # fmt: skip


def _generate(out: Path, *args: str) -> None:
    assert main(["generate", "--out", str(out), "--quiet", *args]) == 0


def _checksums(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((folder / "events").iterdir())}


@pytest.fixture(scope="module")
def mini_log(test_home: Path) -> Path:
    out = test_home / "gen-mini-seed1"
    _generate(out, "--scale", "mini", "--seed", "1")
    return out


def test_mini_matches_the_real_mini_log(mini_log: Path):
    checks = compare_to_real_mini(log_statistics(mini_log))
    failed = [c for c in checks if not c.ok]
    assert not failed, "\n" + format_checks(checks)


def test_lines_have_the_real_keys_in_order_and_types(mini_log: Path, real_rows: Path):
    real = json.loads(real_rows.read_text().splitlines()[0])
    assert list(real) == REAL_KEYS
    seen_pages = Counter()
    with open(next((mini_log / "events").iterdir()), encoding="utf-8") as handle:
        for line in handle:
            event = json.loads(line)
            assert list(event) == REAL_KEYS
            assert isinstance(event["ts"], int) and isinstance(event["sessionId"], int)
            assert isinstance(event["userId"], str)
            assert event["auth"] in {"Logged In", "Logged Out", "Guest", "Cancelled"}
            is_song = event["page"] == "NextSong"
            assert (event["song"] is not None) == is_song and (event["length"] is not None) == is_song
            if event["auth"] in ("Logged Out", "Guest"):
                assert event["userId"] == "" and event["registration"] is None
            else:
                assert event["userId"] and isinstance(event["registration"], int)
                assert ", " in event["location"]
            seen_pages[event["page"]] += 1
    assert seen_pages["NextSong"] > 0 and seen_pages["Home"] > 0


def test_same_seed_gives_identical_files(test_home: Path):
    first, second = test_home / "repro-a", test_home / "repro-b"
    for out in (first, second):
        _generate(out, "--users", "60", "--days", "12", "--seed", "7", "--gzip", "--workers", "2")
    assert _checksums(first) == _checksums(second)
    other = test_home / "repro-c"
    _generate(other, "--users", "60", "--days", "12", "--seed", "8", "--gzip")
    assert _checksums(first) != _checksums(other)
    with gzip.open(first / "events" / "2018-10-01.json.gz", "rt") as handle:
        assert json.loads(handle.readline())["ts"] > 0


def test_later_slice_continues_the_same_population(test_home: Path):
    whole, later = test_home / "slice-whole", test_home / "slice-later"
    _generate(whole, "--users", "40", "--days", "10", "--seed", "3")
    _generate(
        later, "--users", "40", "--days", "10", "--seed", "3", "--start", "2018-10-08", "--end", "2018-10-10"
    )
    written = sorted(p.name for p in (later / "events").iterdir())
    assert written == ["2018-10-08.json", "2018-10-09.json"]
    day = "2018-10-08.json"
    assert (later / "events" / day).read_bytes() == (whole / "events" / day).read_bytes()
    # The slice's last file ends at the slice's end instant (2018-10-10 00:00), as an export does.
    end_ms = int(datetime(2018, 10, 10, tzinfo=UTC).timestamp() * 1000)
    whole_last = (whole / "events" / "2018-10-09.json").read_text().splitlines()
    later_last = (later / "events" / "2018-10-09.json").read_text().splitlines()
    assert later_last == [line for line in whole_last if json.loads(line)["ts"] < end_ms]
    # A next day beyond the window continues the same users.
    nxt = test_home / "slice-next"
    _generate(
        nxt, "--users", "40", "--days", "10", "--seed", "3", "--start", "2018-10-11", "--end", "2018-10-12"
    )
    users_before = {
        json.loads(x)["userId"] for x in (whole / "events" / "2018-10-09.json").read_text().splitlines()
    }
    users_next = {
        json.loads(x)["userId"] for x in (nxt / "events" / "2018-10-11.json").read_text().splitlines()
    }
    assert users_next - {""} and (users_next - {""}) <= (users_before | set(load_ground_truth(whole).users))


def test_ground_truth_agrees_with_the_log(mini_log: Path):
    truth = load_ground_truth(mini_log)
    confirmed: dict[str, int] = {}
    last_event: dict[str, int] = {}
    for path in sorted((mini_log / "events").iterdir()):
        for line in path.read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            if not event["userId"]:
                continue
            last_event[event["userId"]] = max(last_event.get(event["userId"], 0), event["ts"])
            if event["page"] == "Cancellation Confirmation":
                confirmed[event["userId"]] = event["ts"]
    churned_in_truth = {u: t.churn_ms for u, t in truth.users.items() if t.churn_ms is not None}
    assert set(confirmed) == set(churned_in_truth)
    for user, ts in confirmed.items():
        assert churned_in_truth[user] // 1000 == ts // 1000
        assert last_event[user] == ts, f"user {user} has events after cancelling"
    assert set(last_event) == set(truth.users)


def test_oracle_is_a_probability_and_ranks_churners_higher(mini_log: Path):
    truth = load_ground_truth(mini_log)
    as_of = date(2018, 11, 5)
    as_of_ms = int(datetime(2018, 11, 5, tzinfo=UTC).timestamp() * 1000)
    horizon_ms = as_of_ms + 14 * 86_400_000
    alive = [
        u
        for u in truth.users.values()
        if u.registration_ms < as_of_ms and (u.churn_ms or 1 << 62) >= as_of_ms
    ]
    scores = {u.user_id: truth.oracle_probability(u.user_id, as_of, 14) for u in alive}
    assert all(0.0 <= p <= 1.0 for p in scores.values())
    churned = [scores[u.user_id] for u in alive if u.churn_ms is not None and u.churn_ms < horizon_ms]
    stayed = [scores[u.user_id] for u in alive if u.churn_ms is None or u.churn_ms >= horizon_ms]
    assert churned and stayed
    assert sum(churned) / len(churned) > 3 * sum(stayed) / len(stayed)
    expected = sum(scores.values())
    assert abs(expected - len(churned)) < 4 * expected**0.5 + 2  # calibrated in aggregate


def test_observable_ceiling_is_calibrated_and_ranks_between_chance_and_the_oracle(mini_log: Path):
    truth = load_ground_truth(mini_log)
    ceiling = load_observable_ceiling(mini_log, truth)
    assert ceiling is not None
    labels, known, observed = [], [], []
    for as_of in (date(2018, 10, 22), date(2018, 11, 5), date(2018, 11, 19)):
        as_of_ms = int(datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC).timestamp() * 1000)
        for user in truth.users.values():
            if user.registration_ms < as_of_ms and (user.churn_ms or 1 << 62) >= as_of_ms:
                labels.append(user.churn_ms is not None and user.churn_ms < as_of_ms + 14 * 86_400_000)
                known.append(truth.oracle_probability(user.user_id, as_of, 14))
                observed.append(ceiling.oracle_probability(user.user_id, as_of, 14))
    assert all(0.0 <= p <= 1.0 for p in observed)
    outcome = np.array(labels, dtype=float)
    assert 0.5 < auc_roc(outcome, np.array(observed)) < auc_roc(outcome, np.array(known))
    expected = sum(observed)
    assert abs(expected - outcome.sum()) < 4 * expected**0.5 + 2  # calibrated in aggregate


def test_corrupt_rate_injects_every_fault_kind_and_lists_it(test_home: Path):
    out = test_home / "gen-corrupt"
    _generate(out, "--users", "80", "--days", "14", "--seed", "5", "--corrupt-rate", "0.02")
    entries = [json.loads(x) for x in (out / "_corruptions.jsonl").read_text().splitlines()]
    kinds = Counter(e["kind"] for e in entries)
    assert set(kinds) == set(FAULT_KINDS), kinds
    for entry in entries[:200]:
        lines = (out / "events" / entry["file"]).read_bytes().split(b"\n")
        faulty = lines[entry["line"] - 1]
        if entry["kind"] == "invalid_utf8":
            with pytest.raises(UnicodeDecodeError):
                faulty.decode("utf-8")
        if entry["kind"] == "placeholder_user_id":
            assert b'"userId":"1261737"' in faulty
