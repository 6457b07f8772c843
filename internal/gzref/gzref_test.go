package gzref

import (
	"bytes"
	"compress/gzip"
	"io"
	"math/rand/v2"
	"os"
	"testing"
)

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWriteRoundTrip: what Write compresses, compress/gzip reads back
// exactly, for text, random bytes, long repeats and every chunking.
func TestWriteRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 700_000)
	for i := range random {
		random[i] = byte(rng.IntN(256))
	}
	var text bytes.Buffer
	for i := 0; text.Len() < 900_000; i++ {
		text.WriteString("2023-02-01T00:00:01.123Z\tc0ffee-")
		text.WriteString(string(rune('a' + rng.IntN(26))))
		text.WriteString("\tINFO\tFSMSG{\"traceId\":\"x\",\"time\":1675209601123,\"type\":\"call\"}\n")
	}
	inputs := map[string][]byte{
		"empty": nil, "one": {'x'}, "random": random, "text": text.Bytes(),
		"zeros": make([]byte, 600_000), "short-repeat": bytes.Repeat([]byte("abc"), 250_000),
	}
	if data, err := os.ReadFile("../../emulator/testdata/two-functions.log"); err == nil {
		inputs["golden-log"] = bytes.Repeat(data, 200)
	}
	for name, in := range inputs {
		for _, chunk := range []int{1, 7, 4096, 1 << 20} {
			if chunk == 1 && len(in) > 100_000 {
				continue
			}
			var buf bytes.Buffer
			z := NewWriter(&buf)
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
			if out := gunzip(t, buf.Bytes()); !bytes.Equal(out, in) {
				t.Fatalf("%s/%d: %d bytes back for %d", name, chunk, len(out), len(in))
			}
		}
	}
}

// TestRefRoundTrip: streams mixing Literal, Ref (to earlier bytes, equal
// or not, near, far, out of the window, in the future), Repeat and Write
// decompress to exactly what was written.
func TestRefRoundTrip(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		var want []byte
		var buf bytes.Buffer
		z := NewWriter(&buf)
		size := 2000 + rng.IntN(3_000_000)
		for len(want) < size {
			n := 1 + rng.IntN(300)
			b := make([]byte, n)
			switch rng.IntN(4) {
			case 0: // random letters
				for i := range b {
					b[i] = byte('a' + rng.IntN(16))
				}
			default: // a copy of earlier bytes, a few changed
				if len(want) > 0 {
					from := rng.IntN(len(want))
					copy(b, want[from:])
					for k := rng.IntN(4); k > 0; k-- {
						b[rng.IntN(n)] = byte(rng.IntN(256))
					}
				}
			}
			off := z.Offset()
			if off != int64(len(want)) {
				t.Fatalf("seed %d: Offset %d after %d bytes", seed, off, len(want))
			}
			switch rng.IntN(6) {
			case 5:
				if len(want) == 0 {
					z.Literal(b)
					break
				}
				// A run of the last byte.
				for i := range b {
					b[i] = want[len(want)-1]
				}
				z.Repeat(n)
			case 0:
				z.Literal(b)
			case 1:
				z.Write(b)
			case 2:
				z.RefString(string(b), off+int64(rng.IntN(100))-50) // maybe in the future
			default:
				at := off - int64(1+rng.IntN(40_000)) // maybe beyond the window
				z.Ref(b, at)
			}
			want = append(want, b...)
		}
		if err := z.Close(); err != nil {
			t.Fatal(err)
		}
		if out := gunzip(t, buf.Bytes()); !bytes.Equal(out, want) {
			t.Fatalf("seed %d: %d bytes back for %d", seed, len(out), len(want))
		}
	}
}

// TestRefCompresses: lines that point at the previous line compress to a
// few bytes each.
func TestRefCompresses(t *testing.T) {
	var buf bytes.Buffer
	z := NewWriter(&buf)
	line := []byte("2023-02-01T00:00:05.123Z\tabcdef\tINFO\tFSMSG{\"traceId\":\"1675209600-I-128-0123456789abcdef\"}\n")
	prev := int64(-1)
	n := 0
	for i := 0; i < 100_000; i++ {
		line[22] = byte('0' + i%10)
		off := z.Offset()
		z.Ref(line, prev)
		prev = off
		n += len(line)
	}
	z.Close()
	if got := gunzip(t, buf.Bytes()); len(got) != n {
		t.Fatalf("%d bytes back for %d", len(got), n)
	}
	if per := float64(buf.Len()) / 100_000; per > 2 {
		t.Errorf("%.2f bytes per line, want a match and a literal (< 2)", per)
	}
}

func BenchmarkWriteLog(b *testing.B) {
	data, err := os.ReadFile("../../emulator/testdata/two-functions.log")
	if err != nil {
		b.Skip(err)
	}
	data = bytes.Repeat(data, 50)
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		z := NewWriter(io.Discard)
		z.Write(data)
		z.Close()
	}
}
