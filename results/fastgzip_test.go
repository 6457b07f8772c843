package results

import (
	"bytes"
	"compress/gzip"
	"io"
	"math/rand/v2"
	"os"
	"testing"
)

// TestFastGzipRoundTrip: what fastGzip writes, compress/gzip reads back
// exactly, for text, random bytes, long repeats and every chunking.
func TestFastGzipRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 200_000)
	for i := range random {
		random[i] = byte(rng.IntN(256))
	}
	var text bytes.Buffer
	for i := 0; text.Len() < 300_000; i++ {
		text.WriteString("2023-02-01T00:00:01.123Z\tc0ffee-")
		text.WriteString(string(rune('a' + rng.IntN(26))))
		text.WriteString("\tINFO\tFSMSG{\"traceId\":\"x\",\"time\":1675209601123,\"type\":\"call\"}\n")
	}
	inputs := map[string][]byte{
		"empty": nil, "one": {'x'}, "random": random, "text": text.Bytes(),
		"zeros": make([]byte, 100_000), "short-repeat": bytes.Repeat([]byte("abc"), 50_000),
	}
	if data, err := os.ReadFile("../emulator/testdata/two-functions.log"); err == nil {
		inputs["golden-log"] = bytes.Repeat(data, 20)
	}
	for name, in := range inputs {
		for _, chunk := range []int{1, 7, 4096, 1 << 20} {
			var buf bytes.Buffer
			z := newFastGzip(&buf)
			for p := in; len(p) > 0; {
				n := min(chunk, len(p))
				if _, err := z.Write(p[:n]); err != nil {
					t.Fatal(err)
				}
				p = p[n:]
			}
			if err := z.Close(); err != nil {
				t.Fatal(err)
			}
			zr, err := gzip.NewReader(&buf)
			if err != nil {
				t.Fatalf("%s/%d: %v", name, chunk, err)
			}
			out, err := io.ReadAll(zr)
			if err != nil {
				t.Fatalf("%s/%d: %v", name, chunk, err)
			}
			if !bytes.Equal(out, in) {
				t.Fatalf("%s/%d: %d bytes back for %d", name, chunk, len(out), len(in))
			}
		}
	}
}
