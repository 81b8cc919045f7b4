package lint

func init() {
	registerRules(&Rule{
		Code: "DL1001",
		// hadolint's default: off until the configuration gives it a
		// severity (override: {style: [DL1001]}).
		Severity: Ignore,
		Message:  "Please refrain from using inline ignore pragmas `# hadolint ignore=DLxxxx`.",
		Doc: `An inline ignore pragma silences rules for the instruction below it:

    # hadolint ignore=DL3008
    RUN apt-get install -y curl

Such comments pile up and hide problems from review. Teams that want every
exception to live in the shared configuration (.hadolint.yaml: ignored,
override) turn this rule on to find them:

    override:
      warning: [DL1001]

The rule is off by default, as in hadolint. Global pragmas
(# hadolint global ignore=...) are not reported; disable-ignore-pragma makes
all pragmas inert instead of reporting them.`,
		URL:   "https://github.com/hadolint/hadolint/wiki/DL1001",
		Check: checkInlineIgnorePragmas,
	})
}

// checkInlineIgnorePragmas reports every `# hadolint ignore=` comment.
func checkInlineIgnorePragmas(d *Document, r *Reporter) {
	for _, line := range d.inlineIgnoreLines() {
		r.ReportAt(line, 0, "%s", r.rule.Message)
	}
}
