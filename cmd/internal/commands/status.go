package commands

import (
	"slices"
	"strconv"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/cli"
	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/statusview"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper"
)

// status shows the profiles -p names or matches (every profile without
// -p; $VEEAM_PROFILE does not narrow it). A cache that cannot be read is
// shown in each row's error column and makes the exit code non-zero.
func status(c *cli.Call, asJSON bool) error {
	h, err := newHelper(c, false)
	if err != nil {
		return err
	}
	names, err := statusview.Select(h.Config.ProfileNames(), c.Globals.Profile)
	if err != nil {
		return err
	}
	sts, openErr := h.Statuses()
	if openErr != nil {
		// No store at all: still one row per profile, the reason in each.
		sts = nil
		for _, n := range h.Config.ProfileNames() {
			p := h.Config.Profiles[n]
			sts = append(sts, helper.Status{Profile: n, Product: p.Product, URL: p.URL, Username: p.Identity(),
				Grant: p.Grant, Backend: h.Config.Cache.Backend, Static: p.Static(), Error: exitcode.AsError(openErr).Msg})
		}
	}
	shown := make(map[string]bool, len(names))
	for _, n := range names {
		shown[n] = true
	}
	sts = slices.DeleteFunc(sts, func(s helper.Status) bool { return !shown[s.Profile] })
	rows := statusview.Rows(sts, h.Config.DefaultProfile)
	if asJSON {
		err = statusview.WriteJSON(c.Stdout, rows)
	} else {
		err = statusview.WriteTable(c.Stdout, rows, time.Now())
	}
	if err != nil {
		return err
	}
	if openErr != nil {
		return openErr
	}
	if n := statusview.Failed(rows); n > 0 {
		return &exitcode.Error{Exit: exitcode.Cache, Msg: "status: the token cache could not be read for " + plural(n, "profile") + " (see the ERROR column)"}
	}
	return nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
