package awsstandin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"
)

// dynamoTargetPrefix starts the X-Amz-Target of DynamoDB operations.
const dynamoTargetPrefix = "DynamoDB_20120810."

const dynamoContentType = "application/x-amz-json-1.0"

// item is a DynamoDB item: attribute name to attribute value
// ({"N":"5"}, {"S":"x"}, ...), kept as the client sent it.
type item map[string]map[string]any

// table is an in-memory table with a single partition key.
type table struct {
	name      string
	keyName   string
	keyType   string // "N" or "S"
	created   time.Time
	items     map[string]item // by the key's value
	attrDefs  []map[string]string
	keySchema []map[string]string
	billing   string
}

func dynamoError(w http.ResponseWriter, status int, typ, msg string) {
	writeJSONError(w, dynamoContentType, status, "com.amazonaws.dynamodb.v20120810#"+typ, msg, true)
}

func (s *Server) serveDynamo(w http.ResponseWriter, r *http.Request, op string) {
	s.count("dynamodb." + op)
	var in map[string]json.RawMessage
	if err := readJSON(r, &in); err != nil {
		dynamoError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	var out any
	var err error
	switch op {
	case "CreateTable":
		out, err = s.createTable(in)
	case "DescribeTable":
		out, err = s.describeTable(in)
	case "DeleteTable":
		out, err = s.deleteTable(in)
	case "ListTables":
		out, err = s.listTables(in)
	case "PutItem":
		out, err = s.putItem(in)
	case "GetItem":
		out, err = s.getItem(in)
	case "DeleteItem":
		out, err = s.deleteItem(in)
	case "Query":
		out, err = s.query(in)
	default:
		err = &dynamoErr{"UnknownOperationException", "the AWS stand-in has no DynamoDB operation " + op}
	}
	if err != nil {
		var de *dynamoErr
		if e, ok := err.(*dynamoErr); ok {
			de = e
		} else {
			de = &dynamoErr{"ValidationException", err.Error()}
		}
		dynamoError(w, http.StatusBadRequest, de.typ, de.msg)
		return
	}
	writeAWSJSON(w, dynamoContentType, http.StatusOK, out, true)
}

type dynamoErr struct{ typ, msg string }

func (e *dynamoErr) Error() string { return e.typ + ": " + e.msg }

func notFoundTable(name string) error {
	return &dynamoErr{"ResourceNotFoundException", "Requested resource not found: Table: " + name + " not found"}
}

func field[T any](in map[string]json.RawMessage, name string, v *T) error {
	raw, ok := in[name]
	if !ok {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	return nil
}

func (s *Server) tableArn(name string) string {
	return "arn:aws:dynamodb:" + s.cfg.Region + ":" + s.cfg.Account + ":table/" + name
}

func (s *Server) describe(t *table, status string) map[string]any {
	return map[string]any{
		"TableName": t.name, "TableStatus": status, "TableArn": s.tableArn(t.name),
		"KeySchema": t.keySchema, "AttributeDefinitions": t.attrDefs,
		"CreationDateTime": float64(t.created.UnixMilli()) / 1000, "ItemCount": len(t.items),
		"BillingModeSummary": map[string]string{"BillingMode": t.billing},
	}
}

func (s *Server) createTable(in map[string]json.RawMessage) (any, error) {
	var name, billing string
	var keySchema, attrDefs []map[string]string
	for _, err := range []error{field(in, "TableName", &name), field(in, "KeySchema", &keySchema),
		field(in, "AttributeDefinitions", &attrDefs), field(in, "BillingMode", &billing)} {
		if err != nil {
			return nil, err
		}
	}
	if name == "" {
		return nil, fmt.Errorf("TableName is required")
	}
	if len(keySchema) != 1 || keySchema[0]["KeyType"] != "HASH" {
		return nil, fmt.Errorf("KeySchema: the stand-in supports one HASH key, got %v", keySchema)
	}
	t := &table{name: name, keyName: keySchema[0]["AttributeName"], created: s.cfg.Now(), items: map[string]item{},
		keySchema: keySchema, attrDefs: attrDefs, billing: billing}
	for _, d := range attrDefs {
		if d["AttributeName"] == t.keyName {
			t.keyType = d["AttributeType"]
		}
	}
	if t.keyType != "N" && t.keyType != "S" {
		return nil, fmt.Errorf("AttributeDefinitions: key %s needs type N or S", t.keyName)
	}
	if t.billing == "" {
		t.billing = "PROVISIONED"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tables[name]; ok {
		return nil, &dynamoErr{"ResourceInUseException", "Table already exists: " + name}
	}
	s.tables[name] = t
	return map[string]any{"TableDescription": s.describe(t, "ACTIVE")}, nil
}

// lookup finds the table named in the input (under s.mu).
func (s *Server) lookup(in map[string]json.RawMessage) (*table, error) {
	var name string
	if err := field(in, "TableName", &name); err != nil {
		return nil, err
	}
	t, ok := s.tables[name]
	if !ok {
		return nil, notFoundTable(name)
	}
	return t, nil
}

func (s *Server) describeTable(in map[string]json.RawMessage) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.lookup(in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Table": s.describe(t, "ACTIVE")}, nil
}

func (s *Server) deleteTable(in map[string]json.RawMessage) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.lookup(in)
	if err != nil {
		return nil, err
	}
	delete(s.tables, t.name)
	return map[string]any{"TableDescription": s.describe(t, "DELETING")}, nil
}

func (s *Server) listTables(in map[string]json.RawMessage) (any, error) {
	var start string
	var limit int
	if err := field(in, "ExclusiveStartTableName", &start); err != nil {
		return nil, err
	}
	if err := field(in, "Limit", &limit); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	s.mu.Lock()
	var names []string
	for n := range s.tables {
		if n > start {
			names = append(names, n)
		}
	}
	s.mu.Unlock()
	sort.Strings(names)
	out := map[string]any{}
	if len(names) > limit {
		names = names[:limit]
		out["LastEvaluatedTableName"] = names[limit-1]
	}
	if names == nil {
		names = []string{}
	}
	out["TableNames"] = names
	return out, nil
}

// keyOf returns the canonical key of an item or key map.
func (t *table) keyOf(m item) (string, error) {
	v, ok := m[t.keyName]
	if !ok {
		return "", fmt.Errorf("One of the required keys was not given a value: %s", t.keyName)
	}
	s, ok := v[t.keyType].(string)
	if !ok {
		return "", fmt.Errorf("Type mismatch for key %s: expected %s, got %v", t.keyName, t.keyType, v)
	}
	return s, nil
}

func (s *Server) putItem(in map[string]json.RawMessage) (any, error) {
	var it item
	if err := field(in, "Item", &it); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.lookup(in)
	if err != nil {
		return nil, err
	}
	k, err := t.keyOf(it)
	if err != nil {
		return nil, err
	}
	t.items[k] = it
	return map[string]any{}, nil
}

// keyed finds the table and the key of a GetItem or DeleteItem request.
// The caller holds s.mu.
func (s *Server) keyed(in map[string]json.RawMessage) (*table, string, error) {
	var key item
	if err := field(in, "Key", &key); err != nil {
		return nil, "", err
	}
	t, err := s.lookup(in)
	if err != nil {
		return nil, "", err
	}
	k, err := t.keyOf(key)
	return t, k, err
}

func (s *Server) getItem(in map[string]json.RawMessage) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, k, err := s.keyed(in)
	if err != nil {
		return nil, err
	}
	if it, ok := t.items[k]; ok {
		return map[string]any{"Item": it}, nil
	}
	return map[string]any{}, nil
}

func (s *Server) deleteItem(in map[string]json.RawMessage) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, k, err := s.keyed(in)
	if err != nil {
		return nil, err
	}
	delete(t.items, k)
	return map[string]any{}, nil
}

// keyCondition is the one form of KeyConditionExpression the stand-in
// reads: "<name or #alias> = :<value>".
var keyCondition = regexp.MustCompile(`^\s*(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)\s*$`)

func (s *Server) query(in map[string]json.RawMessage) (any, error) {
	var expr string
	var names map[string]string
	var values item
	for _, err := range []error{field(in, "KeyConditionExpression", &expr),
		field(in, "ExpressionAttributeNames", &names), field(in, "ExpressionAttributeValues", &values)} {
		if err != nil {
			return nil, err
		}
	}
	m := keyCondition.FindStringSubmatch(expr)
	if m == nil {
		return nil, fmt.Errorf("KeyConditionExpression %q: the stand-in reads only \"key = :value\"", expr)
	}
	attr := m[1]
	if strings.HasPrefix(attr, "#") {
		attr = names[attr]
	}
	val, ok := values[m[2]]
	if !ok {
		return nil, fmt.Errorf("ExpressionAttributeValues: %s is not defined", m[2])
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.lookup(in)
	if err != nil {
		return nil, err
	}
	if attr != t.keyName {
		return nil, fmt.Errorf("Query condition missed key schema element: %s", t.keyName)
	}
	k, err := t.keyOf(item{t.keyName: val})
	if err != nil {
		return nil, err
	}
	items := []item{}
	if it, ok := t.items[k]; ok {
		items = append(items, it)
	}
	return map[string]any{"Items": items, "Count": len(items), "ScannedCount": len(items)}, nil
}

// Items returns a copy of a table's items as key value to Message (nil
// when the table does not exist), for tests.
func (s *Server) Items(tableName string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tables[tableName]
	if !ok {
		return nil
	}
	out := make(map[string]string, len(t.items))
	for k, it := range t.items {
		msg, _ := it["Message"]["S"].(string)
		out[k] = msg
	}
	return out
}

// Tables lists the tables, sorted.
func (s *Server) Tables() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.tables))
	for n := range s.tables {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
