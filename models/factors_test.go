package models

import (
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

func TestTOTPStep_AcceptsOneStepEitherSideAndNamesIt(t *testing.T) {
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	now := time.Date(2026, 11, 30, 12, 0, 15, 0, time.UTC)
	step := now.Unix() / TOTPPeriod
	for _, tc := range []struct {
		offset int64
		ok     bool
	}{{-2, false}, {-1, true}, {0, true}, {1, true}, {2, false}} {
		code, err := totp.GenerateCode(secret, time.Unix((step+tc.offset)*TOTPPeriod, 0))
		if err != nil {
			t.Fatal(err)
		}
		got, ok := TOTPStep(secret, code[:3]+" "+code[3:], now)
		if ok != tc.ok || (ok && got != step+tc.offset) {
			t.Errorf("code of step %+d: step %d, %v; want %v", tc.offset, got-step, ok, tc.ok)
		}
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if _, ok := TOTPStep(secret, bad, now); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestMustHaveSecondFactor_ByPolicyAndRole(t *testing.T) {
	admin, sales := &User{Role: RoleAdmin}, &User{Role: RoleSales}
	for _, tc := range []struct {
		policy       string
		admin, sales bool
	}{{Require2FAAdmins, true, false}, {Require2FAAll, true, true}, {Require2FAOff, false, false}, {"", false, false}} {
		if MustHaveSecondFactor(tc.policy, admin) != tc.admin || MustHaveSecondFactor(tc.policy, sales) != tc.sales {
			t.Errorf("policy %q: admin %v sales %v", tc.policy, MustHaveSecondFactor(tc.policy, admin), MustHaveSecondFactor(tc.policy, sales))
		}
	}
	if _, err := ParseRequire2FA("admin"); err == nil {
		t.Error("ParseRequire2FA accepted admin")
	}
}
