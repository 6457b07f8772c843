package kubernetes

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// decode reads every document of sweep.yaml with the API machinery's strict
// decoder into the typed objects of the Kubernetes API (k8s.io/api): an
// unknown or misspelt field, a duplicate field or a value of the wrong type
// is an error, as the API server's strict field validation reports it.
func decode(t *testing.T, path string) []runtime.Object {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decodeData(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return objs
}

func decodeData(data []byte) ([]runtime.Object, error) {
	scheme := runtime.NewScheme()
	if err := batchv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	ser := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, json.SerializerOptions{Yaml: true, Strict: true})
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []runtime.Object
	for i := 0; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		obj, _, err := ser.Decode(doc, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

// TestStrictDecoding: the decoder refuses what the API server's strict
// field validation refuses.
func TestStrictDecoding(t *testing.T) {
	good, err := os.ReadFile("sweep.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ from, to, want string }{
		{"completionMode: Indexed", "completionsMode: Indexed", "unknown field"},
		{"completions: 4", "completions: four", "completions"},
		{"parallelism: 4\n", "parallelism: 4\n  parallelism: 2\n", "already set"},
		{"restartPolicy: OnFailure", "restartPolicy: [OnFailure]", "restartPolicy"},
	} {
		bad := strings.Replace(string(good), tc.from, tc.to, 1)
		if bad == string(good) {
			t.Fatalf("%q not in sweep.yaml", tc.from)
		}
		if _, err := decodeData([]byte(bad)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q -> %q: %v, want an error with %q", tc.from, tc.to, err, tc.want)
		}
	}
}

func stripComments(doc []byte) []byte {
	var out []byte
	for _, l := range bytes.Split(doc, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(l), []byte("#")) {
			out = append(append(out, l...), '\n')
		}
	}
	return out
}

// TestSweepManifest: sweep.yaml is a PersistentVolumeClaim, an Indexed Job
// whose completions are the sweep's --shards, and a merge Job on the same
// volume; every object's metadata is valid (apimachinery's
// ValidateObjectMeta), every volume mount names a volume of its pod and every
// claim a claim of the file.
func TestSweepManifest(t *testing.T) {
	objs := decode(t, "sweep.yaml")
	var claims []string
	var jobs []*batchv1.Job
	for _, o := range objs {
		switch v := o.(type) {
		case *corev1.PersistentVolumeClaim:
			claims = append(claims, v.Name)
			checkMeta(t, "PersistentVolumeClaim", &v.ObjectMeta)
			if !slices.Contains(v.Spec.AccessModes, corev1.ReadWriteMany) {
				t.Errorf("claim %s: access modes %v: the shards' pods may land on several nodes, want ReadWriteMany", v.Name, v.Spec.AccessModes)
			}
		case *batchv1.Job:
			checkMeta(t, "Job", &v.ObjectMeta)
			jobs = append(jobs, v)
		default:
			t.Errorf("unexpected object %T", o)
		}
	}
	if len(jobs) != 2 || len(claims) != 1 {
		t.Fatalf("%d jobs and %d claims, want the sweep's Indexed Job, the merge Job and one claim", len(jobs), len(claims))
	}
	sweep, merge := jobs[0], jobs[1]

	// The Indexed Job: what the API server requires of one, and what the
	// sweep needs (one shard per index, --shards = completions).
	s := sweep.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
		t.Fatalf("job %s: completionMode %v, want Indexed", sweep.Name, s.CompletionMode)
	}
	if s.Completions == nil || *s.Completions < 1 {
		t.Fatalf("job %s: an Indexed Job needs completions", sweep.Name)
	}
	if s.Parallelism != nil && *s.Parallelism > *s.Completions {
		t.Errorf("job %s: parallelism %d above completions %d", sweep.Name, *s.Parallelism, *s.Completions)
	}
	for _, j := range jobs {
		rp := j.Spec.Template.Spec.RestartPolicy
		if rp != corev1.RestartPolicyOnFailure && rp != corev1.RestartPolicyNever {
			t.Errorf("job %s: restartPolicy %q: a Job's pods must be OnFailure or Never", j.Name, rp)
		}
		checkPod(t, j.Name, &j.Spec.Template.Spec, claims)
	}
	args := sweep.Spec.Template.Spec.Containers[0].Args
	if len(args) == 0 || args[0] != "sweep" {
		t.Fatalf("job %s: args %v, want simulate's sweep", sweep.Name, args)
	}
	shards := flagValue(args, "shards")
	if shards != strconv.Itoa(int(*s.Completions)) {
		t.Errorf("job %s: --shards %q, completions %d: they must be equal", sweep.Name, shards, *s.Completions)
	}
	for _, a := range args {
		if strings.HasPrefix(a, "--shard=") {
			t.Errorf("job %s: %s: the shard comes from JOB_COMPLETION_INDEX", sweep.Name, a)
		}
	}
	out := flagValue(args, "out")
	margs := merge.Spec.Template.Spec.Containers[0].Args
	if len(margs) == 0 || margs[0] != "merge" || margs[len(margs)-1] != out {
		t.Errorf("job %s: args %v, want merge of the sweep's --out %s", merge.Name, margs, out)
	}
	if merge.Spec.CompletionMode != nil && *merge.Spec.CompletionMode == batchv1.IndexedCompletion {
		t.Errorf("job %s: the merge runs once", merge.Name)
	}
	if flagValue(margs, "wait") == "" {
		t.Errorf("job %s: no --wait: Jobs have no dependencies, the merge must wait for the shards", merge.Name)
	}
}

func flagValue(args []string, name string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
		if a == "--"+name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// checkMeta validates an object's metadata as the API server does (names,
// labels, annotations).
func checkMeta(t *testing.T, kind string, m *metav1.ObjectMeta) {
	t.Helper()
	if errs := apivalidation.ValidateObjectMeta(m, false, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata")); len(errs) > 0 {
		t.Errorf("%s %s: %v", kind, m.Name, errs.ToAggregate())
	}
}

func checkPod(t *testing.T, job string, p *corev1.PodSpec, claims []string) {
	t.Helper()
	vols := map[string]corev1.Volume{}
	for _, v := range p.Volumes {
		vols[v.Name] = v
		if v.PersistentVolumeClaim != nil && !slices.Contains(claims, v.PersistentVolumeClaim.ClaimName) {
			t.Errorf("job %s: volume %s claims %q, which the file does not define", job, v.Name, v.PersistentVolumeClaim.ClaimName)
		}
	}
	if len(p.Containers) != 1 {
		t.Fatalf("job %s: %d containers, want 1", job, len(p.Containers))
	}
	for _, c := range p.Containers {
		if c.Image == "" {
			t.Errorf("job %s: container %s has no image", job, c.Name)
		}
		for _, m := range c.VolumeMounts {
			if _, ok := vols[m.Name]; !ok {
				t.Errorf("job %s: container %s mounts %q, not a volume of the pod", job, c.Name, m.Name)
			}
		}
	}
}
