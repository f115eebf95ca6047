package hit

import "time"

// Hooks for the external tests.
var (
	DecodeEntryForTest = decodeEntry
	ItemJSONForTest    = itemJSON{}
)

// SetSettleMarginForTest sets how long a file takes to settle; it returns
// the previous value.
func SetSettleMarginForTest(d time.Duration) time.Duration {
	old := settleMargin
	settleMargin = d
	return old
}
