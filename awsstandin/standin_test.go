package awsstandin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	lambdasvc "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/aws/handler"
)

// linesBackend serves fixed log lines and records deployments.
type linesBackend struct {
	lines   map[string][]LogEvent // by function id
	deploys []string
}

func (b *linesBackend) Deploy(_ context.Context, s *fusionsim.Setup) error {
	b.deploys = append(b.deploys, s.Name())
	return nil
}
func (b *linesBackend) Invoke(w http.ResponseWriter, _ *http.Request, id fusionsim.FunctionID) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"ran":%q}`, id.Short())
}
func (b *linesBackend) Logs(_ context.Context, id fusionsim.FunctionID) ([]LogEvent, error) {
	return b.lines[id.Short()], nil
}

func clients(url string) (*lambdasvc.Client, *cloudwatchlogs.Client, *dynamodb.Client) {
	cfg := sdk.Config{
		Region: "us-east-1", BaseEndpoint: sdk.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSTANDINTEST", "standin-secret", ""),
	}
	return lambdasvc.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg), dynamodb.NewFromConfig(cfg)
}

func TestLambdaAndLogsThroughTheSDK(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	var lines []LogEvent
	for i := 0; i < 25; i++ {
		at := t0.Add(time.Duration(i) * time.Second)
		lines = append(lines,
			LogEvent{Time: at, Message: fmt.Sprintf("START RequestId: r%d Version: $LATEST", i)},
			LogEvent{Time: at, Message: "2024-05-01T12:00:00.000Z\tr\tINFO\tFSMSG{}"},
			LogEvent{Time: at, Message: fmt.Sprintf("REPORT RequestId: r%d\tDuration: 1.00 ms", i)})
	}
	b := &linesBackend{lines: map[string][]LogEvent{"X-128": lines}}
	srv := httptest.NewServer(New(Config{Backend: b, LogPageSize: 7}))
	defer srv.Close()
	lc, logs, _ := clients(srv.URL)
	ctx := context.Background()

	// Errors come back typed.
	_, err := lc.GetFunction(ctx, &lambdasvc.GetFunctionInput{FunctionName: sdk.String("nope")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("GetFunction of a missing function: %v", err)
	}
	setup := &fusionsim.Setup{Rules: fusionsim.Rules{"X": {}}, TraceName: fusionsim.NewTraceName("s")}
	for i := 0; i < 3; i++ {
		id := fusionsim.FunctionID{Task: "X", MemoryMB: 128 * (i + 1)}
		env, _ := handler.Environment("app", id, setup, "", 0, "d")
		_, err := lc.CreateFunction(ctx, &lambdasvc.CreateFunctionInput{
			FunctionName: sdk.String(id.Name()), Role: sdk.String("arn:aws:iam::1:role/r"), MemorySize: sdk.Int32(int32(id.MemoryMB)),
			Code: &types.FunctionCode{ZipFile: []byte("zip")}, Environment: &types.Environment{Variables: env},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err = lc.CreateFunction(ctx, &lambdasvc.CreateFunctionInput{
		FunctionName: sdk.String("fusion-function-X-128"), Role: sdk.String("arn:aws:iam::1:role/r"), Code: &types.FunctionCode{ZipFile: []byte("z")},
	})
	var conflict *types.ResourceConflictException
	if !errors.As(err, &conflict) {
		t.Errorf("second CreateFunction: %v", err)
	}
	_, err = lc.UpdateFunctionConfiguration(ctx, &lambdasvc.UpdateFunctionConfigurationInput{
		FunctionName: sdk.String("fusion-function-X-128"),
		Environment:  &types.Environment{Variables: map[string]string{"BIG": strings.Repeat("x", 5000)}},
	})
	var invalid *types.InvalidParameterValueException
	if !errors.As(err, &invalid) || !strings.Contains(err.Error(), "4KB") {
		t.Errorf("environment over 4 KB: %v", err)
	}

	// ListFunctions pages.
	var names []string
	p := lambdasvc.NewListFunctionsPaginator(lc, &lambdasvc.ListFunctionsInput{MaxItems: sdk.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range out.Functions {
			names = append(names, *f.FunctionName)
		}
	}
	if strings.Join(names, " ") != "fusion-function-X-128 fusion-function-X-256 fusion-function-X-384" {
		t.Errorf("ListFunctions: %v", names)
	}

	// Invoke deploys the functions' setup first, once.
	for i := 0; i < 2; i++ {
		out, err := lc.Invoke(ctx, &lambdasvc.InvokeInput{FunctionName: sdk.String("fusion-function-X-256"), Payload: []byte(`{}`)})
		if err != nil || string(out.Payload) != `{"ran":"X-256"}` {
			t.Fatalf("Invoke: %v, %s", err, out.Payload)
		}
	}
	if fmt.Sprint(b.deploys) != "[s]" {
		t.Errorf("deployments %v, want [s]", b.deploys)
	}

	// FilterLogEvents: window, pattern, pages of 7.
	var got []string
	pages := cloudwatchlogs.NewFilterLogEventsPaginator(logs, &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName:  sdk.String("/aws/lambda/fusion-function-X-128"),
		StartTime:     sdk.Int64(t0.Add(5 * time.Second).UnixMilli()),
		EndTime:       sdk.Int64(t0.Add(14 * time.Second).UnixMilli()),
		FilterPattern: sdk.String(`?"START RequestId:" ?"REPORT RequestId:"`),
	})
	n := 0
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n++
		for _, ev := range out.Events {
			if !strings.HasSuffix(*ev.Message, "\n") {
				t.Errorf("message without Lambda's newline: %q", *ev.Message)
			}
			got = append(got, strings.Fields(*ev.Message)[2])
		}
	}
	if len(got) != 20 || got[0] != "r5" || got[19] != "r14" || n != 3 {
		t.Errorf("filtered events %v in %d pages; want r5..r14, START and REPORT, in 3 pages", got, n)
	}
	_, err = logs.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: sdk.String("/aws/lambda/none")})
	var lnf *cwtypes.ResourceNotFoundException
	if !errors.As(err, &lnf) {
		t.Errorf("missing log group: %v", err)
	}
	groups, err := logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: sdk.String("/aws/lambda/fusion-")})
	if err != nil || len(groups.LogGroups) != 1 {
		t.Fatalf("DescribeLogGroups: %v, %v (only X-128 has lines)", groups, err)
	}
	if _, err := logs.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: groups.LogGroups[0].LogGroupName}); err != nil {
		t.Fatal(err)
	}
	if _, err := logs.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: groups.LogGroups[0].LogGroupName}); !errors.As(err, &lnf) {
		t.Errorf("deleting a deleted log group: %v", err)
	}
}

func TestDynamoDBThroughTheSDK(t *testing.T) {
	s := New(Config{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	_, _, db := clients(srv.URL)
	ctx := context.Background()
	create := &dynamodb.CreateTableInput{
		TableName:            sdk.String("T"),
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: sdk.String("SensorID"), KeyType: ddbtypes.KeyTypeHash}},
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: sdk.String("SensorID"), AttributeType: ddbtypes.ScalarAttributeTypeN}},
	}
	if _, err := db.CreateTable(ctx, create); err != nil {
		t.Fatal(err)
	}
	var inUse *ddbtypes.ResourceInUseException
	if _, err := db.CreateTable(ctx, create); !errors.As(err, &inUse) {
		t.Errorf("second CreateTable: %v", err)
	}
	if err := dynamodb.NewTableExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: sdk.String("T")}, time.Second); err != nil {
		t.Fatal(err)
	}
	tables := handler.Tables{DB: db}
	for k := int64(1); k <= 3; k++ {
		if err := tables.Put(ctx, "T", fusionsim.Item{Key: k, Message: fmt.Sprint("m", k)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tables.Put(ctx, "T", fusionsim.Item{Key: 2, Message: "m2b"}); err != nil {
		t.Fatal(err)
	}
	items, err := tables.Query(ctx, "T", 2)
	if err != nil || len(items) != 1 || items[0].Message != "m2b" {
		t.Errorf("Query: %v, %v", items, err)
	}
	it, ok, err := tables.Get(ctx, "T", 3)
	if err != nil || !ok || it.Message != "m3" {
		t.Errorf("Get: %v %v %v", it, ok, err)
	}
	if err := tables.Delete(ctx, "T", 3); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := tables.Get(ctx, "T", 3); ok {
		t.Error("deleted item still there")
	}
	var nf *ddbtypes.ResourceNotFoundException
	if err := tables.Put(ctx, "missing", fusionsim.Item{Key: 1}); !errors.As(err, &nf) {
		t.Errorf("put into a missing table: %v", err)
	}
	if _, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: sdk.String("T")}); err != nil {
		t.Fatal(err)
	}
	if len(s.Tables()) != 0 {
		t.Errorf("tables left: %v", s.Tables())
	}
}

func TestTimeLines(t *testing.T) {
	log := "START RequestId: a Version: $LATEST\n" +
		"2024-05-01T12:00:00.100Z\ta\tINFO\tone\n" +
		"a line of its own\n" +
		"2024-05-01T12:00:00.300Z\ta\tINFO\ttwo\n" +
		"END RequestId: a\n" +
		"REPORT RequestId: a\tDuration: 1.00 ms\n" +
		"START RequestId: b Version: $LATEST\n" +
		"2024-05-01T12:00:01.000Z\tb\tINFO\tthree\n"
	evs, err := TimeLines([]byte(log))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".100", ".100", ".100", ".300", ".300", ".300", "1.000", "1.000"}
	for i, ev := range evs {
		if got := ev.Time.Format("5.000"); !strings.HasSuffix(got, want[i]) {
			t.Errorf("line %d %q at %s, want %s", i, ev.Message, got, want[i])
		}
	}
}

func TestFilterPattern(t *testing.T) {
	for _, c := range []struct {
		pattern, msg string
		match        bool
	}{
		{``, "anything", true},
		{`ERROR`, "an ERROR here", true},
		{`ERROR timeout`, "ERROR but no t-word", false},
		{`?"START RequestId:" ?"REPORT RequestId:"`, "REPORT RequestId: x", true},
		{`?"START RequestId:" ?"REPORT RequestId:"`, "END RequestId: x", false},
		{`FSMSG -init`, `FSMSG{"type":"init"}`, false},
	} {
		fp, err := parseFilterPattern(c.pattern)
		if err != nil || fp.match(c.msg) != c.match {
			t.Errorf("%q on %q: %v, %v", c.pattern, c.msg, fp.match(c.msg), err)
		}
	}
	if _, err := parseFilterPattern(`{ $.x = 1 }`); err == nil {
		t.Error("JSON patterns accepted")
	}
}
