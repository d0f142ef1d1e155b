"""Point-in-time feature computation: the raw feature row of a subject as of time T, from its event log.

Every value in a row as of T is computed only from events whose EVENT time is at or before T: window counts
take events in (T - w, T], "latest" attributes the last statement at or before T. The same code computes
rows for training (many subjects x many as-of times), for the online store (as of now), and the change-point
rows the Feast offline source holds (see `change_points`).

Vectorised with numpy: events are sorted by a composite (subject, time) key and every query is a pair of
binary searches, so a million queries over a few million events take seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd

from fairway_ml_scoring.feature_fields import RAW_FIELDS
from fairway_ml_scoring.features.events import (
    ACTIVITY_KINDS,
    SPEND_KINDS,
    TRANSACTION_KINDS,
    is_complaint,
)

DAY = 86_400
WINDOW_DAYS = (30, 90, 365)
_SHIFT = 35  # seconds fit in 35 bits until the year 3058; subjects in the upper bits
_CANCELLED_STATUSES = {"cancelled", "canceled", "resigned", "terminated", "lapsed", "inactive"}



def _epoch(value: Any) -> float:
    """Seconds since the epoch of an ISO date/datetime string, date or datetime; NaN if unusable."""
    if value is None:
        return np.nan
    try:
        if isinstance(value, datetime):
            dt = value
        elif isinstance(value, date):
            dt = datetime(value.year, value.month, value.day, tzinfo=UTC)
        else:
            s = str(value)
            dt = (
                datetime.fromisoformat(s) if "T" in s or " " in s else datetime.fromisoformat(s + "T00:00:00")
            )
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return dt.timestamp()
    except (TypeError, ValueError):
        return np.nan


def _bool(value: Any) -> float:
    return np.nan if value is None else float(bool(value))


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


@dataclass
class _Series:
    """One kind of fact for many subjects, sorted by (subject, time), with running sums."""

    keys: np.ndarray  # int64 composite keys, ascending
    subj: np.ndarray  # int64 subject index per element
    ts: np.ndarray  # int64 seconds
    values: np.ndarray  # float64
    cum_count: np.ndarray  # len n+1
    cum_value: np.ndarray  # len n+1

    @classmethod
    def build(cls, subj: np.ndarray, ts: np.ndarray, values: np.ndarray | None = None) -> _Series:
        vals = np.ones(len(subj)) if values is None else np.nan_to_num(values.astype(np.float64), nan=0.0)
        raw = values.astype(np.float64) if values is not None else vals
        keys = (subj.astype(np.int64) << _SHIFT) | ts.astype(np.int64)
        order = np.argsort(keys, kind="stable")
        return cls(
            keys=keys[order],
            subj=subj[order].astype(np.int64),
            ts=ts[order].astype(np.int64),
            values=raw[order],
            cum_count=np.concatenate([[0], np.arange(1, len(order) + 1)]).astype(np.float64),
            cum_value=np.concatenate([[0.0], np.cumsum(vals[order])]),
        )

    def _pos(self, q_subj: np.ndarray, q_ts: np.ndarray) -> np.ndarray:
        """Index one past the last element of the subject at or before q_ts."""
        t = np.clip(q_ts, 0, (1 << _SHIFT) - 1).astype(np.int64)
        return np.searchsorted(self.keys, (q_subj.astype(np.int64) << _SHIFT) | t, side="right")

    def _start(self, q_subj: np.ndarray) -> np.ndarray:
        """Index of the subject's first element."""
        return np.searchsorted(self.keys, q_subj.astype(np.int64) << _SHIFT, side="left")

    def _range(self, q_subj: np.ndarray, q_ts: np.ndarray, days: int | None) -> tuple[np.ndarray, np.ndarray]:
        hi = self._pos(q_subj, q_ts)
        lo = (
            np.maximum(self._pos(q_subj, q_ts - days * DAY), self._start(q_subj))
            if days
            else self._start(q_subj)
        )
        return lo, np.maximum(hi, lo)

    def count(self, q_subj: np.ndarray, q_ts: np.ndarray, days: int | None = None) -> np.ndarray:
        """Elements in (T - days, T], or all up to T."""
        lo, hi = self._range(q_subj, q_ts, days)
        return self.cum_count[hi] - self.cum_count[lo]

    def total(self, q_subj: np.ndarray, q_ts: np.ndarray, days: int | None = None) -> np.ndarray:
        lo, hi = self._range(q_subj, q_ts, days)
        return self.cum_value[hi] - self.cum_value[lo]

    def _last_idx(self, q_subj: np.ndarray, q_ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        idx = self._pos(q_subj, q_ts) - 1
        ok = idx >= 0
        safe = np.where(ok, idx, 0)
        if len(self.subj):
            ok &= self.subj[safe] == q_subj
        else:
            ok[:] = False
        return safe, ok

    def last_ts(self, q_subj: np.ndarray, q_ts: np.ndarray) -> np.ndarray:
        idx, ok = self._last_idx(q_subj, q_ts)
        return np.where(ok, self.ts[idx] if len(self.ts) else 0, np.nan).astype(np.float64)

    def last_value(self, q_subj: np.ndarray, q_ts: np.ndarray) -> np.ndarray:
        idx, ok = self._last_idx(q_subj, q_ts)
        return np.where(ok, self.values[idx] if len(self.values) else 0, np.nan).astype(np.float64)

    def first_ts(self, q_subj: np.ndarray, q_ts: np.ndarray) -> np.ndarray:
        start = self._start(q_subj)
        ok = start < len(self.keys)
        safe = np.where(ok, start, 0)
        if len(self.keys):
            ok &= (self.subj[safe] == q_subj) & (self.ts[safe] <= q_ts)
        else:
            ok[:] = False
        return np.where(ok, self.ts[safe] if len(self.ts) else 0, np.nan).astype(np.float64)


class EventLog:
    """The events of many subjects, ready for point-in-time queries."""

    def __init__(
        self,
        subjects: Sequence[str],
        subj: np.ndarray,
        ts: np.ndarray,
        kind: np.ndarray,
        amount: np.ndarray,
        attrs: Sequence[dict[str, Any]],
    ) -> None:
        self.subjects = np.asarray(subjects, dtype=object)
        self.index = {s: i for i, s in enumerate(self.subjects)}
        self.subj, self.ts, self.kind, self.amount = subj, ts, kind, amount
        self.attrs = attrs
        self._build()

    @classmethod
    def from_rows(
        cls, rows: Iterable[tuple[str, str, datetime, float | None, dict[str, Any] | None]]
    ) -> EventLog:
        """rows: (subject, kind, occurred_at, amount, attrs)."""
        subjects: dict[str, int] = {}
        subj, ts, kind, amount, attrs = [], [], [], [], []
        for s, k, at, amt, a in rows:
            subj.append(subjects.setdefault(s, len(subjects)))
            ts.append(int(at.timestamp()))
            kind.append(k)
            amount.append(np.nan if amt is None else float(amt))
            attrs.append(a or {})
        return cls(
            list(subjects),
            np.asarray(subj, dtype=np.int64),
            np.asarray(ts, dtype=np.int64),
            np.asarray(kind, dtype=object),
            np.asarray(amount, dtype=np.float64),
            attrs,
        )

    @classmethod
    def empty(cls) -> EventLog:
        return cls.from_rows([])

    def __len__(self) -> int:
        return len(self.ts)

    # -- series ------------------------------------------------------------------------------------------
    def _kinds(self, kinds: Iterable[str], values: np.ndarray | None = None) -> _Series:
        mask = np.isin(self.kind, list(kinds))
        return _Series.build(self.subj[mask], self.ts[mask], None if values is None else values[mask])

    def _attr(self, name: str, convert: Any, kinds: Iterable[str] | None = None) -> _Series:
        vals = np.array([convert(a.get(name)) if name in a else np.nan for a in self.attrs], dtype=np.float64)
        mask = ~np.isnan(vals)
        if kinds is not None:
            mask &= np.isin(self.kind, list(kinds))
        return _Series.build(self.subj[mask], self.ts[mask], vals[mask])

    def _build(self) -> None:
        k = self._kinds
        self.s_activity = k(ACTIVITY_KINDS)
        self.s_all = _Series.build(self.subj, self.ts)
        self.s_booking = k({"booking"})
        self.s_round = k({"round"})
        self.s_cancel = k({"booking_cancelled"})
        self.s_purchase = k(TRANSACTION_KINDS)
        self.s_purchase_only = k({"purchase"})
        self.s_spend = k(SPEND_KINDS, self.amount)
        self.s_payment = k({"payment"}, self.amount)
        self.s_email_sent = k({"email_sent"})
        self.s_email_opened = k({"email_opened"})
        self.s_email_clicked = k({"email_clicked"})
        self.s_email_bounced = k({"email_bounced"})
        self.s_sms_sent = k({"sms_sent"})
        self.s_push_sent = k({"push_sent"})
        self.s_push_opened = k({"push_opened"})
        self.s_unsub = k({"unsubscribed"})
        self.s_membership_cancel = k({"membership_cancelled"})
        complaint = np.array(
            [is_complaint(kd, a) for kd, a in zip(self.kind, self.attrs, strict=True)], dtype=bool
        )
        self.s_complaint = _Series.build(self.subj[complaint], self.ts[complaint])
        self.s_member_since = self._attr("memberSince", _epoch)
        self.s_expiry = self._attr("membershipExpiry", _epoch)
        self.s_handicap = self._attr("handicap", _float)
        self.s_consent = {
            f: self._attr(f, _bool) for f in ("emailOptIn", "smsOptIn", "pushOptIn", "whatsappOptIn")
        }
        self.s_timeline_last = self._attr("lastActivityAt", _epoch, kinds={"timeline"})
        # Membership lifecycle: 1 = cancelled, 0 = in good standing; the latest statement at or before T wins.
        life = np.full(len(self.ts), np.nan)
        for i, (kd, a) in enumerate(zip(self.kind, self.attrs, strict=True)):
            if kd == "membership_cancelled":
                life[i] = 1.0
            elif kd == "membership_renewed":
                life[i] = 0.0
            elif kd in ("member", "profile") and a.get("membershipStatus"):
                life[i] = 1.0 if str(a["membershipStatus"]).lower() in _CANCELLED_STATUSES else 0.0
        mask = ~np.isnan(life)
        self.s_lifecycle = _Series.build(self.subj[mask], self.ts[mask], life[mask])

    # -- queries -------------------------------------------------------------------------------------------
    def rows(self, subjects: Sequence[str], as_of: Sequence[datetime] | np.ndarray) -> pd.DataFrame:
        """Raw feature rows of (subject, as-of) pairs; subjects without events get counts of 0."""
        q_ts = _as_seconds(as_of)
        known = np.array([s in self.index for s in subjects], dtype=bool)
        # Unknown subjects query index -1 + len: a range no event lives in.
        q_subj = np.array([self.index.get(s, len(self.subjects) + 1) for s in subjects], dtype=np.int64)
        return self._rows(q_subj, q_ts, known)

    def _rows(self, q: np.ndarray, t: np.ndarray, known: np.ndarray | None = None) -> pd.DataFrame:
        out: dict[str, np.ndarray] = {}
        own_last = self.s_activity.last_ts(q, t)
        tl_last = self.s_timeline_last.last_value(q, t)
        tl_last = np.where(
            tl_last <= t, tl_last, np.nan
        )  # a timeline statement about later activity is ignored
        out["last_activity_ts"] = np.fmax(own_last, tl_last)
        out["first_activity_ts"] = self.s_activity.first_ts(q, t)
        out["last_booking_ts"] = self.s_booking.last_ts(q, t)
        out["last_round_ts"] = self.s_round.last_ts(q, t)
        out["last_purchase_ts"] = self.s_purchase.last_ts(q, t)
        out["last_email_open_ts"] = self.s_email_opened.last_ts(q, t)
        for d in WINDOW_DAYS:
            out[f"activity_{d}d"] = self.s_activity.count(q, t, d)
            out[f"bookings_{d}d"] = self.s_booking.count(q, t, d)
            out[f"rounds_{d}d"] = self.s_round.count(q, t, d)
            out[f"spend_{d}d"] = self.s_spend.total(q, t, d)
        out["activity_all"] = self.s_activity.count(q, t)
        out["spend_all"] = self.s_spend.total(q, t)
        for d in (90, 365):
            out[f"cancellations_{d}d"] = self.s_cancel.count(q, t, d)
            out[f"purchases_{d}d"] = self.s_purchase.count(q, t, d)
        out["payments_365d"] = self.s_payment.count(q, t, 365)
        out["payment_amount_365d"] = self.s_payment.total(q, t, 365)
        for d in (30, 90):
            out[f"email_sent_{d}d"] = self.s_email_sent.count(q, t, d)
            out[f"email_opened_{d}d"] = self.s_email_opened.count(q, t, d)
            out[f"email_clicked_{d}d"] = self.s_email_clicked.count(q, t, d)
            out[f"sms_sent_{d}d"] = self.s_sms_sent.count(q, t, d)
            out[f"push_sent_{d}d"] = self.s_push_sent.count(q, t, d)
            out[f"push_opened_{d}d"] = self.s_push_opened.count(q, t, d)
        out["email_bounced_90d"] = self.s_email_bounced.count(q, t, 90)
        out["unsubscribes_365d"] = self.s_unsub.count(q, t, 365)
        out["complaints_365d"] = self.s_complaint.count(q, t, 365)
        out["member_since_ts"] = self.s_member_since.last_value(q, t)
        out["membership_expiry_ts"] = self.s_expiry.last_value(q, t)
        out["membership_cancelled"] = np.nan_to_num(self.s_lifecycle.last_value(q, t), nan=0.0)
        out["handicap_latest"] = self.s_handicap.last_value(q, t)
        out["handicap_90d_ago"] = self.s_handicap.last_value(q, t - 90 * DAY)
        for flag, col in (
            ("emailOptIn", "consent_email"),
            ("smsOptIn", "consent_sms"),
            ("pushOptIn", "consent_push"),
            ("whatsappOptIn", "consent_whatsapp"),
        ):
            out[col] = np.nan_to_num(self.s_consent[flag].last_value(q, t), nan=0.0)
        out["event_count"] = self.s_all.count(q, t)
        frame = pd.DataFrame(out, columns=list(RAW_FIELDS))
        return frame.astype(np.float64)

    def _query(self, subjects: Sequence[str]) -> np.ndarray:
        return np.array([self.index.get(s, len(self.subjects) + 1) for s in subjects], dtype=np.int64)

    def window(
        self,
        what: str,
        subjects: Sequence[str],
        start: np.ndarray | datetime,
        days: int,
        *,
        total: bool = False,
    ) -> np.ndarray:
        """Count (or sum) of `what` in (start, start + days] per subject: labels and outcomes look ahead.

        what: activity | membership_cancelled | transactions | spend.
        """
        series = {
            "activity": self.s_activity,
            "membership_cancelled": self.s_membership_cancel,
            "transactions": self.s_purchase,
            "spend": self.s_spend,
        }[what]
        q = self._query(subjects)
        t = (
            np.full(len(q), int(start.timestamp()), dtype=np.int64)
            if isinstance(start, datetime)
            else np.asarray(start, dtype=np.int64)
        )
        end = t + days * DAY
        return series.total(q, end, days) if total else series.count(q, end, days)

    def rfm(self, until: datetime, subjects: Sequence[str] | None = None) -> pd.DataFrame:
        """Purchase history summary per subject at `until` (days as the time unit), as BG/NBD expects:
        frequency = repeat purchase days, recency = first to last purchase day, T = first purchase day to
        `until`, monetary = mean spend of the repeat purchase days, spend = all spend. Purchases on one
        day are one transaction."""
        s = self.s_spend
        keep = (s.ts <= int(until.timestamp())) & (s.values > 0)
        frame = pd.DataFrame({"subj": s.subj[keep], "day": s.ts[keep] // DAY, "value": s.values[keep]})
        cols = ["subject", "frequency", "recency", "T", "monetary", "spend"]
        if frame.empty:
            out = pd.DataFrame(columns=cols)
        else:
            daily = frame.groupby(["subj", "day"], as_index=False)["value"].sum().sort_values(["subj", "day"])
            g = daily.groupby("subj")
            first, last = g["day"].min(), g["day"].max()
            n, total = g["day"].size(), g["value"].sum()
            first_value = g["value"].first()
            repeat = n - 1
            monetary = ((total - first_value) / repeat.where(repeat > 0)).fillna(0.0)
            until_day = until.timestamp() / DAY
            out = pd.DataFrame(
                {
                    "subject": self.subjects[first.index.to_numpy()],
                    "frequency": repeat.to_numpy(dtype=np.float64),
                    "recency": (last - first).to_numpy(dtype=np.float64),
                    "T": (until_day - first.to_numpy(dtype=np.float64)),
                    "monetary": monetary.to_numpy(),
                    "spend": total.to_numpy(dtype=np.float64),
                }
            )
        if subjects is not None:
            out = out.set_index("subject").reindex(list(subjects)).reset_index()
            out.columns = cols
        return out.reset_index(drop=True)

    def change_points(self, until: datetime) -> pd.DataFrame:
        """Every (subject, T <= until) at which some raw feature can change, with the row as of T.

        Values change only when an event enters a window (its time) or leaves one (its time + 30/90/365
        days), so a point-in-time join that takes the latest row at or before D returns exactly the row as of
        D. This is what the Feast offline source holds.
        """
        if not len(self):
            return pd.DataFrame(columns=["subject", "event_timestamp", *RAW_FIELDS])
        limit = int(until.timestamp())
        offsets = np.array([0, *[d * DAY for d in WINDOW_DAYS]], dtype=np.int64)
        subj = np.repeat(self.subj, len(offsets))
        ts = (self.ts[:, None] + offsets[None, :]).ravel()
        keep = ts <= limit
        pairs = np.unique(np.stack([subj[keep], ts[keep]], axis=1), axis=0)
        frame = self._rows(pairs[:, 0], pairs[:, 1])
        frame.insert(0, "event_timestamp", pd.to_datetime(pairs[:, 1], unit="s", utc=True))
        frame.insert(0, "subject", self.subjects[pairs[:, 0]])
        return frame


def _as_seconds(as_of: Sequence[datetime] | np.ndarray | pd.Series) -> np.ndarray:
    if isinstance(as_of, pd.Series | pd.DatetimeIndex):
        return (pd.to_datetime(as_of, utc=True).astype("int64") // 10**9).to_numpy().astype(np.int64)
    if isinstance(as_of, np.ndarray) and np.issubdtype(as_of.dtype, np.integer):
        return as_of.astype(np.int64)
    return np.array([int(t.timestamp()) for t in as_of], dtype=np.int64)
