package integration

import "context"

// Details describe a call for its record: which service, for which business record, on whose
// behalf. The recording Transport takes them from the request's context, falling back to
// its Options, so a handler sets them once and every call it makes is labelled:
//
//	ctx = integration.WithReference(ctx, "Order", order.ID)
//	resp, err := erp.Do(req.WithContext(ctx))
type Details struct {
	Service       string
	Description   string
	ReferenceType string
	ReferenceID   string
	Owner         string
	attempt       int // base attempt number for caller-driven retries; 0 means 1
}

type detailsKey struct{}

// DetailsFrom returns the details stored in ctx (zero when none).
func DetailsFrom(ctx context.Context) Details {
	d, _ := ctx.Value(detailsKey{}).(Details)
	return d
}

// WithDetails returns ctx carrying d, replacing any details already there.
func WithDetails(ctx context.Context, d Details) context.Context {
	return context.WithValue(ctx, detailsKey{}, d)
}

func update(ctx context.Context, f func(*Details)) context.Context {
	d := DetailsFrom(ctx)
	f(&d)
	return WithDetails(ctx, d)
}

// WithReference labels calls made with ctx with the business record they belong to (Frappe's
// reference_doctype and reference_docname), e.g. ("Order", "42").
func WithReference(ctx context.Context, refType, refID string) context.Context {
	return update(ctx, func(d *Details) { d.ReferenceType, d.ReferenceID = refType, refID })
}

// WithService names the third party for calls made with ctx, overriding the client's.
func WithService(ctx context.Context, service string) context.Context {
	return update(ctx, func(d *Details) { d.Service = service })
}

// WithDescription sets a human description ("Create sales order") for calls made with ctx.
func WithDescription(ctx context.Context, description string) context.Context {
	return update(ctx, func(d *Details) { d.Description = description })
}

// WithOwner records the user on whose behalf calls made with ctx are made.
func WithOwner(ctx context.Context, owner string) context.Context {
	return update(ctx, func(d *Details) { d.Owner = owner })
}

// WithAttempt numbers a retry of the same call: a retry loop passes 2, 3, ... so the records
// of one call read attempt 1, 2, 3. Redirect hops are numbered on their own, on top of it.
func WithAttempt(ctx context.Context, attempt int) context.Context {
	return update(ctx, func(d *Details) { d.attempt = attempt })
}
