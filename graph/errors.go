package graph

// NotFoundError is a reference to an object the store does not hold; the endpoint's presenter
// gives it the code NOT_FOUND.
type NotFoundError struct{ Message string }

func (e *NotFoundError) Error() string { return e.Message }
