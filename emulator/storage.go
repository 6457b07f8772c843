package emulator

import (
	"sort"

	"github.com/fusionsim/fusionsim"
)

// Tables is the in-memory table store that stands in for DynamoDB: tables of
// items keyed by a number (the prototype's SensorID), holding one item per
// key. Latencies are modeled by the caller (model.Storage).
type Tables struct {
	t map[string]map[int64]string
	// The table used last: task code mostly uses one table many times
	// in a row.
	lastName  string
	lastTable map[int64]string
}

// NewTables returns an empty store.
func NewTables() *Tables { return &Tables{t: make(map[string]map[int64]string)} }

// Put stores item, replacing the item with the same key.
func (s *Tables) Put(table string, item fusionsim.Item) {
	m := s.table(table)
	if m == nil {
		m = make(map[int64]string)
		s.t[table] = m
		s.lastName, s.lastTable = table, m
	}
	m[item.Key] = item.Message
}

// table returns table's items, nil if it has none.
func (s *Tables) table(name string) map[int64]string {
	if s.lastTable != nil && name == s.lastName {
		return s.lastTable
	}
	m := s.t[name]
	if m != nil {
		s.lastName, s.lastTable = name, m
	}
	return m
}

// Get returns the item with key.
func (s *Tables) Get(table string, key int64) (fusionsim.Item, bool) {
	msg, ok := s.table(table)[key]
	return fusionsim.Item{Key: key, Message: msg}, ok
}

// Query returns the items with key (none or one).
func (s *Tables) Query(table string, key int64) []fusionsim.Item {
	if msg, ok := s.table(table)[key]; ok {
		return []fusionsim.Item{{Key: key, Message: msg}}
	}
	return nil
}

// Delete removes the item with key.
func (s *Tables) Delete(table string, key int64) { delete(s.table(table), key) }

// Len is the number of items in table.
func (s *Tables) Len(table string) int { return len(s.t[table]) }

// Names lists the tables, sorted.
func (s *Tables) Names() []string {
	n := make([]string, 0, len(s.t))
	for k := range s.t {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}
