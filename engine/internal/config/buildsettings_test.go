package config

import (
	"testing"
	"time"
)

func TestBuildSettings(t *testing.T) {
	commit := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		env     map[string]string
		want    BuildSettings
		time    time.Time
		wantErr string
	}{
		{env: nil, want: BuildSettings{}, time: commit},
		{env: map[string]string{EnvSourceDateEpoch: "0"}, want: BuildSettings{SourceDateEpoch: time.Unix(0, 0).UTC()}, time: time.Unix(0, 0).UTC()},
		{env: map[string]string{EnvSourceDateEpoch: "1700000000"}, want: BuildSettings{SourceDateEpoch: time.Unix(1700000000, 0).UTC()}, time: time.Unix(1700000000, 0).UTC()},
		{env: map[string]string{EnvSourceDateEpoch: "-1"}, wantErr: "SOURCE_DATE_EPOCH=-1 is not a Unix time in seconds: unset it to use the commit's time"},
		{env: map[string]string{EnvSourceDateEpoch: "yesterday"}, wantErr: "SOURCE_DATE_EPOCH=yesterday is not a Unix time in seconds: unset it to use the commit's time"},
		{env: map[string]string{EnvAttestations: "none"}, want: BuildSettings{}, time: commit},
		{env: map[string]string{EnvAttestations: "provenance"}, want: BuildSettings{Provenance: true}, time: commit},
		{env: map[string]string{EnvAttestations: "1"}, want: BuildSettings{Provenance: true, AttestSBOM: true}, time: commit},
		{env: map[string]string{EnvAttestations: "all"}, want: BuildSettings{Provenance: true, AttestSBOM: true}, time: commit},
		{env: map[string]string{EnvAttestations: "sbom"}, wantErr: "MAGESHIP_ATTESTATIONS=sbom: use provenance, all, or leave it unset for none"},
		{env: map[string]string{EnvCacheFrom: "type=gha,scope={name}", EnvCacheTo: "type=gha,mode=max"}, want: BuildSettings{CacheFrom: "type=gha,scope={name}", CacheTo: "type=gha,mode=max"}, time: commit},
	} {
		got, err := buildSettings(func(k string) string { return tc.env[k] })
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("%v: err = %v, want %q", tc.env, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.env, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%v: got %+v, want %+v", tc.env, got, tc.want)
		}
		if w := got.Time(commit); !w.Equal(tc.time) {
			t.Errorf("%v: Time = %v, want %v", tc.env, w, tc.time)
		}
		if got.Attest() != (tc.want.Provenance || tc.want.AttestSBOM) {
			t.Errorf("%v: Attest = %v", tc.env, got.Attest())
		}
	}
}
