package image

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// ErrNotFound is wrapped by Pull's error when the registry has no such
// repository, tag or manifest.
var ErrNotFound = errors.New("image not found")

// ErrDenied is wrapped by the errors of Pull and Push when the registry
// refuses the credentials (or their absence).
var ErrDenied = errors.New("access denied")

// ErrUnreachable is wrapped, together with the network error, when a
// registry cannot be reached.
var ErrUnreachable = errors.New("unreachable")

// registryError turns an error from go-containerregistry into one that
// names the registry and says what went wrong in the user's terms.
func registryError(registry string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var terr *transport.Error
	if errors.As(err, &terr) {
		switch {
		case terr.StatusCode == http.StatusNotFound,
			hasCode(terr, transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode):
			return ErrNotFound
		case terr.StatusCode == http.StatusUnauthorized, terr.StatusCode == http.StatusForbidden,
			hasCode(terr, transport.UnauthorizedErrorCode, transport.DeniedErrorCode):
			return fmt.Errorf("registry %s: %w (log in with docker login or a credential helper): %w", registry, ErrDenied, err)
		}
		return fmt.Errorf("registry %s: %w", registry, err)
	}
	var plain *PlainHTTPError
	if errors.As(err, &plain) {
		return fmt.Errorf("registry %s: %w", registry, plain)
	}
	var certErr *tls.CertificateVerificationError
	var authErr x509.UnknownAuthorityError
	if errors.As(err, &certErr) || errors.As(err, &authErr) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return fmt.Errorf("registry %s: %w (if you trust it, use --insecure-registry %s)", registry, err, registry)
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return fmt.Errorf("registry %s %w: %w", registry, ErrUnreachable, opErr)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Errorf("registry %s %w: %w", registry, ErrUnreachable, dnsErr)
	}
	return fmt.Errorf("registry %s: %w", registry, err)
}

func hasCode(e *transport.Error, codes ...transport.ErrorCode) bool {
	for _, d := range e.Errors {
		for _, c := range codes {
			if d.Code == c {
				return true
			}
		}
	}
	return false
}
