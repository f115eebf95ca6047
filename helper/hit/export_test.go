package hit

// Hooks for the external tests.
var (
	DecodeEntryForTest = decodeEntry
	ItemJSONForTest    = itemJSON{}
)
