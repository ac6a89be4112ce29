package msgraph

import (
	"fmt"
	"strings"
)

// RecordError says which page, and which record in it, a problem was found in.
type RecordError struct {
	Where string // file or URL of the page
	Index int    // position in the page's value array; -1 when the page itself is at fault
	ID    string // the record's id as written, when it has one
	Err   error
}

func (e *RecordError) Error() string {
	var b strings.Builder
	b.WriteString(e.Where)
	if e.Index >= 0 {
		fmt.Fprintf(&b, ": value[%d]", e.Index)
		if e.ID != "" {
			fmt.Fprintf(&b, " (id %q)", e.ID)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *RecordError) Unwrap() error { return e.Err }

// WorkflowError is a workflow a KeepGoing walk could not finish. What the walk stored of it
// before the error stays stored, and its checkpoints let the next walk resume.
type WorkflowError struct {
	ID  string
	Err error
}

func (e *WorkflowError) Error() string { return fmt.Sprintf("workflow %s: %v", e.ID, e.Err) }
func (e *WorkflowError) Unwrap() error { return e.Err }
