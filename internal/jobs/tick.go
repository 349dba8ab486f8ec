package jobs

import (
	"time"

	"github.com/robfig/cron/v3"
)

// maxLookback bounds the search for a past activation: cron's own Next gives up after five
// years, so a schedule with no activation in six is treated as having none.
const maxLookback = 6 * 366 * 24 * time.Hour

// tickAt returns the tick a run at now belongs to: the latest activation of sched at or
// before now. Replicas woken by cron for the same activation compute the same tick, even if
// they wake a little apart, and that is what they claim in job_ticks.
//
// cron.Schedule only offers Next(t), the first activation strictly after t. For whole
// seconds k, Next(now-k) <= now exactly when some activation lies in (now-k, now], which
// holds for every k above some k0; for the smallest such k, Next(now-k) is the latest
// activation. Doubling k and then bisecting finds it in O(log gap) calls to Next, where
// stepping forward from an old time could take millions.
func tickAt(sched cron.Schedule, now time.Time) time.Time {
	if every, ok := sched.(cron.ConstantDelaySchedule); ok {
		// "@every D" has no grid of its own (cron counts from the process's start), so use
		// multiples of D since the zero time, which is aligned to UTC midnight for any D
		// that divides a day.
		return now.Truncate(every.Delay)
	}
	hasActivation := func(k int64) bool {
		next := sched.Next(now.Add(-time.Duration(k) * time.Second))
		return !next.IsZero() && !next.After(now)
	}
	hi := int64(1)
	for !hasActivation(hi) {
		if time.Duration(hi)*time.Second > maxLookback {
			return now.Truncate(time.Second)
		}
		hi *= 2
	}
	lo := hi / 2 // hasActivation(lo) is false: lo was tried, or is 0
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if hasActivation(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return sched.Next(now.Add(-time.Duration(hi) * time.Second))
}
