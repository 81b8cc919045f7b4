package main

import (
	"encoding/csv"
	"os"
	"strings"

	"github.com/stratabuild/strata/solver"
)

// maxSecretSize is BuildKit's limit on a secret's size.
const maxSecretSize = 500 << 10

// parseSecrets parses --secret values as buildx does:
// "id=ID[,src=FILE|,env=VARIABLE][,type=file|env]". A bare "id=ID" is the
// environment variable ID when it is set, else the file ID. Files must
// exist; their content is read only when a step needs it.
func parseSecrets(values []string) (map[string]solver.SecretSource, error) {
	secrets := map[string]solver.SecretSource{}
	for _, v := range values {
		fields, err := csv.NewReader(strings.NewReader(v)).Read()
		if err != nil {
			return nil, usagef("--secret %q: %v", v, err)
		}
		var id, typ string
		var src solver.SecretSource
		for _, field := range fields {
			key, value, ok := strings.Cut(field, "=")
			if !ok {
				return nil, usagef("--secret %q: invalid field %q: must be a key=value pair", v, field)
			}
			switch strings.ToLower(key) {
			case "type":
				if value != "file" && value != "env" {
					return nil, usagef("--secret %q: unsupported secret type %q (want file or env)", v, value)
				}
				typ = value
			case "id":
				id = value
			case "src", "source":
				src.File = value
			case "env":
				src.Env = value
			default:
				return nil, usagef("--secret %q: unexpected key %q (want id, src, env or type)", v, key)
			}
		}
		if typ == "env" && src.Env == "" {
			src.Env, src.File = src.File, ""
		}
		if id == "" {
			return nil, usagef("--secret %q: the secret has no id", v)
		}
		if src.Env == "" && src.File == "" {
			if _, ok := os.LookupEnv(id); ok {
				src.Env = id
			} else {
				src.File = id
			}
		}
		if src.Env != "" {
			src.File = "" // buildx reads the variable when both are given
		}
		if src.File != "" {
			fi, err := os.Stat(src.File)
			if err != nil {
				return nil, usagef("--secret id=%s: %v", id, err)
			}
			if fi.Size() > maxSecretSize {
				return nil, usagef("--secret id=%s: %s is too big: the limit is %d KiB", id, src.File, maxSecretSize>>10)
			}
		}
		secrets[id] = src
	}
	return secrets, nil
}

// parseSSH parses --ssh values as buildx does: "default" or "ID" forwards
// the agent of $SSH_AUTH_SOCK, "ID=SOCKET" the agent listening on SOCKET.
// Key files ("ID=key.pem"), which buildx loads into an agent of its own, are
// not supported yet.
func parseSSH(values []string) (map[string]string, error) {
	agents := map[string]string{}
	for _, v := range values {
		id, paths, hasPaths := strings.Cut(v, "=")
		if id == "" {
			id = "default"
		}
		if _, dup := agents[id]; dup {
			return nil, usagef("--ssh %s: duplicate agent id %q", v, id)
		}
		var sock string
		switch list := strings.Split(paths, ","); {
		case !hasPaths || paths == "":
			sock = os.Getenv("SSH_AUTH_SOCK")
			if sock == "" {
				return nil, usagef("--ssh %s: SSH_AUTH_SOCK is not set: start an ssh-agent (eval $(ssh-agent); ssh-add) or give its socket, --ssh %s=SOCKET", v, id)
			}
		case len(list) > 1:
			return nil, usagef("--ssh %s: key files are not supported yet: load the keys into an ssh-agent (ssh-add FILE) and pass --ssh %s", v, id)
		default:
			sock = list[0]
		}
		fi, err := os.Stat(sock)
		if err != nil {
			return nil, usagef("--ssh %s: %v", v, err)
		}
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, usagef("--ssh %s: %s is not an agent socket; key files are not supported yet: load the key into an ssh-agent (ssh-add %s) and pass --ssh %s", v, sock, sock, id)
		}
		agents[id] = sock
	}
	return agents, nil
}

// parseAllow parses --allow entitlements (comma-separated or repeated):
// security.insecure lets RUN --security=insecure run. network.host is
// accepted for buildx compatibility; RUN --network=host needs no grant in
// strata.
func parseAllow(values []string) (insecure bool, err error) {
	for _, v := range values {
		for _, e := range strings.Split(v, ",") {
			switch strings.TrimSpace(e) {
			case "security.insecure":
				insecure = true
			case "network.host", "":
			default:
				return false, usagef("--allow %s: unknown entitlement (want security.insecure or network.host)", e)
			}
		}
	}
	return insecure, nil
}
