package lint

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
)

// buildkitCases are the tables of BuildKit's checks: for each, Dockerfiles
// on which `docker build --check` reports it (at the lines given) and
// clean twins on which it does not. The base images are taken to have
// only PATH in their environment, as alpine has.
var buildkitCases = map[string][]ruleCase{
	"StageNameCasing": {
		{name: "upper initial", dockerfile: "FROM alpine AS Builder\n", want: []int{1}},
		{name: "all upper", dockerfile: "FROM alpine AS BUILD\nRUN true\n", want: []int{1}},
		{name: "second stage", dockerfile: "FROM alpine AS base\nFROM base AS Final\n", want: []int{2}},
		{name: "lower keywords", dockerfile: "from alpine as myStage\n", want: []int{1}},
		{name: "two of three", dockerfile: "FROM alpine AS build\nFROM alpine AS Test\nFROM alpine AS DEPLOY\n", want: []int{2, 3}},
		{name: "with platform", dockerfile: "FROM --platform=$BUILDPLATFORM golang:1.22 AS Compile\n", want: []int{1}},
		{name: "clean lower", dockerfile: "FROM alpine AS builder\n"},
		{name: "clean unnamed", dockerfile: "FROM alpine\n"},
		{name: "clean symbols", dockerfile: "FROM alpine AS build-1.0_x\n"},
		{name: "clean lower keywords", dockerfile: "from alpine as base\n"},
		{name: "clean chain", dockerfile: "FROM alpine AS base\nFROM base AS final\n"},
		{name: "clean capitalised comment", dockerfile: "# Builder stage\nFROM alpine AS builder\n"},
	},
	"FromAsCasing": {
		{name: "upper from lower as", dockerfile: "FROM alpine as build\n", want: []int{1}},
		{name: "lower from upper as", dockerfile: "from alpine AS build\n", want: []int{1}},
		{name: "mixed as", dockerfile: "FROM alpine As build\n", want: []int{1}},
		{name: "lower from mixed as", dockerfile: "from alpine aS build\n", want: []int{1}},
		{name: "second stage", dockerfile: "FROM alpine AS a\nFROM alpine as b\n", want: []int{2}},
		{name: "with platform", dockerfile: "FROM --platform=$BUILDPLATFORM alpine as b\n", want: []int{1}},
		{name: "clean upper", dockerfile: "FROM alpine AS build\n"},
		{name: "clean lower", dockerfile: "from alpine as build\n"},
		{name: "clean mixed from", dockerfile: "From alpine as build\n"},
		{name: "clean no as", dockerfile: "FROM alpine\n"},
		{name: "clean odd from", dockerfile: "fRoM alpine AS x\n"},
		{name: "clean chain", dockerfile: "FROM alpine AS build\nFROM build AS test\n"},
	},
	"NoEmptyContinuation": {
		{name: "empty line", dockerfile: "FROM alpine\nRUN echo a && \\\n\n    echo b\n", want: []int{4}},
		{name: "blank line", dockerfile: "FROM alpine\nRUN echo a && \\\n   \n    echo b\n", want: []int{4}},
		{name: "two instructions", dockerfile: "FROM alpine\nRUN a \\\n\n  b\nRUN c \\\n\n  d\n", want: []int{4, 7}},
		{name: "in ENV", dockerfile: "FROM alpine\nENV A=1 \\\n\n    B=2\n", want: []int{4}},
		{name: "long", dockerfile: "FROM alpine\nRUN apt-get update && \\\n    apt-get install -y \\\n\n        curl \\\n        git\n", want: []int{6}},
		{name: "empty and comment", dockerfile: "FROM alpine\nRUN a \\\n# note\n\n  b\n", want: []int{5}},
		{name: "clean", dockerfile: "FROM alpine\nRUN echo a && \\\n    echo b\n"},
		{name: "clean comment inside", dockerfile: "FROM alpine\nRUN echo a && \\\n# note\n    echo b\n"},
		{name: "clean empty after", dockerfile: "FROM alpine\nRUN echo a\n\nRUN echo b\n"},
		{name: "clean ENV", dockerfile: "FROM alpine\nENV A=1 \\\n    B=2\n"},
		{name: "clean empty line in heredoc", dockerfile: "FROM alpine\nRUN <<EOF\necho a\n\necho b\nEOF\n"},
		{name: "clean long", dockerfile: "FROM alpine\nRUN apt-get update && \\\n    apt-get install -y \\\n        curl \\\n        git\n"},
	},
	"ConsistentInstructionCasing": {
		{name: "one lower", dockerfile: "FROM alpine\nrun echo hi\n", want: []int{2}},
		{name: "one upper among lower", dockerfile: "from alpine\nrun a\nRUN b\n", want: []int{3}},
		{name: "mixed case", dockerfile: "FROM alpine\nRun echo hi\n", want: []int{2}},
		{name: "tie is upper", dockerfile: "from alpine\nRUN a\n", want: []int{1}},
		{name: "onbuild keyword", dockerfile: "FROM alpine\nonbuild RUN echo\n", want: []int{2}},
		{name: "several", dockerfile: "FROM alpine\nworkdir /app\nCOPY . .\nrun make\nCMD [\"app\"]\n", want: []int{2, 4}},
		{name: "clean upper", dockerfile: "FROM alpine\nRUN echo\nCMD [\"sh\"]\n"},
		{name: "clean lower", dockerfile: "from alpine\nrun echo\ncmd [\"sh\"]\n"},
		{name: "clean meta arg not counted", dockerfile: "arg V=1\nFROM alpine\nRUN echo\n"},
		{name: "clean onbuild trigger not counted", dockerfile: "FROM alpine\nONBUILD run echo\n"},
		{name: "clean heredoc words", dockerfile: "FROM alpine\nRUN <<EOF\nrun this\nEOF\n"},
		{name: "clean two stages", dockerfile: "FROM alpine AS a\nRUN a\nFROM a\nRUN b\n"},
	},
	"DuplicateStageName": {
		{name: "twice", dockerfile: "FROM alpine AS a\nFROM alpine AS a\n", want: []int{2}},
		{name: "case-insensitive", dockerfile: "FROM alpine AS build\nFROM alpine AS Build\n", want: []int{2}},
		{name: "three times", dockerfile: "FROM alpine AS a\nFROM alpine AS b\nFROM alpine AS a\nFROM alpine AS a\n", want: []int{3, 4}},
		{name: "apart", dockerfile: "FROM alpine AS x\nRUN true\nFROM debian AS y\nRUN true\nFROM alpine AS x\n", want: []int{5}},
		{name: "lower keywords", dockerfile: "from alpine as base\nfrom alpine as base\n", want: []int{2}},
		{name: "built on itself", dockerfile: "FROM alpine AS base\nFROM base AS base\n", want: []int{2}},
		{name: "clean distinct", dockerfile: "FROM alpine AS a\nFROM alpine AS b\n"},
		{name: "clean unnamed", dockerfile: "FROM alpine\nFROM alpine\n"},
		{name: "clean chain", dockerfile: "FROM alpine AS x\nFROM x\n"},
		{name: "clean similar", dockerfile: "FROM alpine AS build\nFROM alpine AS build2\n"},
		{name: "clean one", dockerfile: "FROM alpine AS only\n"},
		{name: "clean prefix", dockerfile: "FROM alpine AS a-b\nFROM alpine AS a\n"},
	},
	"ReservedStageName": {
		{name: "scratch", dockerfile: "FROM alpine AS scratch\n", want: []int{1}},
		{name: "context", dockerfile: "FROM alpine AS context\n", want: []int{1}},
		{name: "capitalised", dockerfile: "FROM alpine AS Scratch\n", want: []int{1}},
		{name: "second stage", dockerfile: "FROM alpine AS base\nFROM base AS context\n", want: []int{2}},
		{name: "lower keywords", dockerfile: "from alpine as scratch\n", want: []int{1}},
		{name: "both", dockerfile: "FROM alpine AS context\nFROM alpine AS scratch\n", want: []int{1, 2}},
		{name: "clean scratch base", dockerfile: "FROM scratch\n"},
		{name: "clean scratchy", dockerfile: "FROM alpine AS scratchy\n"},
		{name: "clean build-context", dockerfile: "FROM alpine AS build-context\n"},
		{name: "clean scratch base named", dockerfile: "FROM scratch AS empty\n"},
		{name: "clean copy from context", dockerfile: "FROM alpine AS ctx\nCOPY . /src\n"},
		{name: "clean unnamed", dockerfile: "FROM alpine\n"},
	},
	"JSONArgsRecommended": {
		{name: "cmd", dockerfile: "FROM alpine\nCMD echo hi\n", want: []int{2}},
		{name: "entrypoint", dockerfile: "FROM alpine\nENTRYPOINT my-server --port 80\n", want: []int{2}},
		{name: "both", dockerfile: "FROM alpine\nENTRYPOINT run.sh\nCMD start\n", want: []int{2, 3}},
		{name: "second stage", dockerfile: "FROM alpine AS a\nCMD [\"a\"]\nFROM alpine\nCMD b\n", want: []int{4}},
		{name: "lower case", dockerfile: "from alpine\ncmd echo hi\n", want: []int{2}},
		{name: "shell after", dockerfile: "FROM alpine\nCMD echo\nSHELL [\"/bin/bash\", \"-c\"]\n", want: []int{2}},
		{name: "clean json", dockerfile: "FROM alpine\nCMD [\"echo\", \"hi\"]\n"},
		{name: "clean shell before", dockerfile: "FROM alpine\nSHELL [\"/bin/bash\", \"-c\"]\nCMD echo hi\n"},
		{name: "clean shell in base stage", dockerfile: "FROM alpine AS base\nSHELL [\"/bin/sh\", \"-c\"]\nFROM base\nCMD echo hi\n"},
		{name: "clean run", dockerfile: "FROM alpine\nRUN echo hi\n"},
		{name: "clean json entrypoint", dockerfile: "FROM alpine\nENTRYPOINT [\"app\"]\nCMD [\"--help\"]\n"},
		{name: "clean healthcheck", dockerfile: "FROM alpine\nHEALTHCHECK CMD wget -q localhost\n"},
	},
	"MaintainerDeprecated": {
		{name: "simple", dockerfile: "FROM alpine\nMAINTAINER me@example.com\n", want: []int{2}},
		{name: "lower case", dockerfile: "from alpine\nmaintainer me\n", want: []int{2}},
		{name: "twice", dockerfile: "FROM alpine\nMAINTAINER a\nMAINTAINER b\n", want: []int{2, 3}},
		{name: "second stage", dockerfile: "FROM alpine AS a\nFROM a\nMAINTAINER Jane Doe <jane@example.com>\n", want: []int{3}},
		{name: "continued", dockerfile: "FROM alpine\nMAINTAINER Jane \\\n  Doe\n", want: []int{2}},
		{name: "after run", dockerfile: "FROM alpine\nRUN true\nMAINTAINER x\n", want: []int{3}},
		{name: "clean label", dockerfile: "FROM alpine\nLABEL org.opencontainers.image.authors=me\n"},
		{name: "clean comment", dockerfile: "FROM alpine\n# MAINTAINER me\n"},
		{name: "clean run", dockerfile: "FROM alpine\nRUN echo MAINTAINER\n"},
		{name: "clean maintainer label", dockerfile: "FROM alpine\nLABEL maintainer=me\n"},
		{name: "clean env", dockerfile: "FROM alpine\nENV MAINTAINER=me\n"},
		{name: "clean none", dockerfile: "FROM alpine\n"},
	},
	"UndefinedArgInFrom": {
		{name: "no arg", dockerfile: "FROM alpine:$TAG\n", want: []int{1}},
		{name: "typo", dockerfile: "ARG TAG=3.20\nFROM alpine:$TGA\n", want: []int{2}},
		{name: "platform", dockerfile: "FROM --platform=$PLATFORM alpine\n", want: []int{1}},
		{name: "registry", dockerfile: "FROM ${REGISTRY}/alpine\n", want: []int{1}},
		{name: "stage arg is not global", dockerfile: "FROM alpine\nARG V=3.20\nFROM alpine:$V\n", want: []int{3}},
		{name: "two stages", dockerfile: "FROM alpine:$A\nFROM debian:$B\n", want: []int{1, 2}},
		{name: "clean declared", dockerfile: "ARG TAG=3.20\nFROM alpine:$TAG\n"},
		{name: "clean declared without value", dockerfile: "ARG TAG\nFROM alpine:${TAG:-3.20}\n"},
		{name: "clean predefined", dockerfile: "FROM --platform=$BUILDPLATFORM alpine\n"},
		{name: "clean target arch", dockerfile: "FROM alpine:$TARGETARCH\n"},
		{name: "clean no variables", dockerfile: "FROM alpine:3.20\n"},
		{name: "clean stage base", dockerfile: "ARG BASE=alpine\nFROM ${BASE} AS a\nFROM a\n"},
	},
	"WorkdirRelativePath": {
		{name: "relative", dockerfile: "FROM alpine\nWORKDIR app\n", want: []int{2}},
		{name: "dot", dockerfile: "FROM alpine\nWORKDIR ./app\n", want: []int{2}},
		{name: "first only", dockerfile: "FROM alpine\nWORKDIR app\nWORKDIR /x\nWORKDIR y\n", want: []int{2}},
		{name: "from arg", dockerfile: "FROM alpine\nARG DIR=app\nWORKDIR $DIR\n", want: []int{3}},
		{name: "second stage", dockerfile: "FROM alpine\nWORKDIR /a\nFROM alpine\nWORKDIR b\n", want: []int{4}},
		{name: "lower case", dockerfile: "from alpine\nworkdir src\n", want: []int{2}},
		{name: "clean absolute", dockerfile: "FROM alpine\nWORKDIR /app\n"},
		{name: "clean relative after absolute", dockerfile: "FROM alpine\nWORKDIR /app\nWORKDIR src\n"},
		{name: "clean base stage absolute", dockerfile: "FROM alpine AS base\nWORKDIR /app\nFROM base\nWORKDIR sub\n"},
		{name: "clean absolute from arg", dockerfile: "FROM alpine\nARG D=/srv\nWORKDIR $D\n"},
		{name: "clean env", dockerfile: "FROM alpine\nENV D=/opt\nWORKDIR ${D}/app\n"},
		{name: "clean none", dockerfile: "FROM alpine\nRUN mkdir app\n"},
	},
	"UndefinedVar": {
		{name: "env", dockerfile: "FROM alpine\nENV A=$B\n", want: []int{2}},
		{name: "copy", dockerfile: "FROM alpine\nCOPY $SRC /x\n", want: []int{2}},
		{name: "arg default", dockerfile: "FROM alpine\nARG X=$Y\n", want: []int{2}},
		{name: "workdir", dockerfile: "FROM alpine\nWORKDIR /app/$sub\n", want: []int{2}},
		{name: "same env", dockerfile: "FROM alpine\nENV A=1 B=$A\n", want: []int{2}},
		{name: "typo", dockerfile: "FROM alpine\nENV APP_DIR=/app\nWORKDIR $APPDIR\n", want: []int{3}},
		{name: "used before declared", dockerfile: "FROM alpine\nCOPY $V /x\nARG V\n", want: []int{2}},
		{name: "global arg not redeclared", dockerfile: "ARG V=1\nFROM alpine\nENV X=$V\n", want: []int{3}},
		{name: "label", dockerfile: "FROM alpine\nLABEL version=$VERSION_NUMBER\n", want: []int{2}},
		{name: "user", dockerfile: "FROM alpine\nUSER $user\n", want: []int{2}},
		{name: "predefined needs arg", dockerfile: "FROM alpine\nENV ARCH=$TARGETARCH\n", want: []int{2}},
		{name: "run mount", dockerfile: "FROM alpine\nRUN --mount=type=cache,target=/root/$CACHE true\n", want: []int{2}},
		{name: "onbuild trigger in child", dockerfile: "FROM alpine AS base\nONBUILD COPY $nope /x\nFROM base\n", want: []int{3}},
		{name: "scratch knows home is unset", dockerfile: "FROM scratch\nENV H=$HOME\n", want: []int{2}},
		{name: "clean declared no value", dockerfile: "FROM alpine\nARG V\nENV X=$V\n"},
		{name: "clean env before", dockerfile: "FROM alpine\nENV A=1\nENV B=$A\n"},
		{name: "clean run", dockerfile: "FROM alpine\nRUN echo $undefined\n"},
		{name: "clean cmd", dockerfile: "FROM alpine\nCMD echo $X\n"},
		{name: "clean redeclared global", dockerfile: "ARG V=1\nFROM alpine\nARG V\nENV X=$V\n"},
		{name: "clean inherited", dockerfile: "FROM alpine AS a\nENV A=1\nFROM a\nENV B=$A\n"},
		{name: "clean path", dockerfile: "FROM alpine\nENV PATH=$PATH:/opt/bin\n"},
		{name: "clean escaped", dockerfile: "FROM alpine\nENV X=\\$NOTVAR\n"},
		{name: "clean single quotes", dockerfile: "FROM alpine\nENV X='$NOTVAR'\n"},
		{name: "clean arg in same instruction", dockerfile: "FROM alpine\nARG A=1 B=$A\n"},
		{name: "clean expose", dockerfile: "FROM alpine\nEXPOSE $PORT\n"},
		{name: "clean inherited arg", dockerfile: "FROM alpine AS a\nARG V\nFROM a\nENV X=$V\n"},
	},
	"MultipleInstructionsDisallowed": {
		{name: "cmd twice", dockerfile: "FROM alpine\nCMD [\"a\"]\nCMD [\"b\"]\n", want: []int{2}},
		{name: "entrypoint twice", dockerfile: "FROM alpine\nENTRYPOINT [\"a\"]\nENTRYPOINT [\"b\"]\n", want: []int{2}},
		{name: "healthcheck twice", dockerfile: "FROM alpine\nHEALTHCHECK CMD [\"a\"]\nHEALTHCHECK NONE\n", want: []int{2}},
		{name: "three", dockerfile: "FROM alpine\nCMD [\"a\"]\nCMD [\"b\"]\nCMD [\"c\"]\n", want: []int{2, 3}},
		{name: "mixed case", dockerfile: "FROM alpine\ncmd [\"a\"]\nCMD [\"b\"]\n", want: []int{2}},
		{name: "apart", dockerfile: "FROM alpine\nCMD [\"a\"]\nRUN true\nENTRYPOINT [\"e\"]\nCMD [\"b\"]\n", want: []int{2}},
		{name: "clean one each", dockerfile: "FROM alpine\nENTRYPOINT [\"e\"]\nCMD [\"c\"]\nHEALTHCHECK NONE\n"},
		{name: "clean one per stage", dockerfile: "FROM alpine\nCMD [\"a\"]\nFROM alpine\nCMD [\"b\"]\n"},
		{name: "clean child stage", dockerfile: "FROM alpine AS a\nCMD [\"x\"]\nFROM a\nCMD [\"y\"]\n"},
		{name: "clean onbuild", dockerfile: "FROM alpine\nONBUILD CMD [\"a\"]\nCMD [\"b\"]\n"},
		{name: "clean healthcheck cmd", dockerfile: "FROM alpine\nHEALTHCHECK CMD [\"a\"]\nCMD [\"b\"]\n"},
		{name: "clean none", dockerfile: "FROM alpine\nRUN true\n"},
	},
	"LegacyKeyValueFormat": {
		{name: "env", dockerfile: "FROM alpine\nENV A 1\n", want: []int{2}},
		{name: "label", dockerfile: "FROM alpine\nLABEL maintainer me\n", want: []int{2}},
		{name: "quoted value", dockerfile: "FROM alpine\nENV GREETING \"hello world\"\n", want: []int{2}},
		{name: "lower case", dockerfile: "from alpine\nenv a b\n", want: []int{2}},
		{name: "two", dockerfile: "FROM alpine\nENV A 1\nENV B 2\n", want: []int{2, 3}},
		{name: "spaces in value", dockerfile: "FROM alpine\nENV MSG hello big world\n", want: []int{2}},
		{name: "clean env", dockerfile: "FROM alpine\nENV A=1\n"},
		{name: "clean label", dockerfile: "FROM alpine\nLABEL a=b\n"},
		{name: "clean several", dockerfile: "FROM alpine\nENV A=1 B=2\n"},
		{name: "clean quoted", dockerfile: "FROM alpine\nENV A=\"x y\"\n"},
		{name: "clean arg", dockerfile: "FROM alpine\nARG A=1\n"},
		{name: "clean continued", dockerfile: "FROM alpine\nENV A=1 \\\n    B=2\n"},
	},
	"RedundantTargetPlatform": {
		{name: "plain", dockerfile: "FROM --platform=$TARGETPLATFORM alpine\n", want: []int{1}},
		{name: "braces", dockerfile: "FROM --platform=${TARGETPLATFORM} alpine\n", want: []int{1}},
		{name: "named", dockerfile: "FROM --platform=$TARGETPLATFORM alpine AS run\n", want: []int{1}},
		{name: "second stage", dockerfile: "FROM alpine AS a\nFROM --platform=$TARGETPLATFORM alpine\n", want: []int{2}},
		{name: "lower case", dockerfile: "from --platform=$TARGETPLATFORM alpine\n", want: []int{1}},
		{name: "declared", dockerfile: "ARG TARGETPLATFORM\nFROM --platform=$TARGETPLATFORM alpine\n", want: []int{2}},
		{name: "clean build platform", dockerfile: "FROM --platform=$BUILDPLATFORM alpine\n"},
		{name: "clean none", dockerfile: "FROM alpine\n"},
		{name: "clean os and arch", dockerfile: "FROM --platform=${TARGETOS}/${TARGETARCH} alpine\n"},
		{name: "clean constant", dockerfile: "FROM --platform=linux/amd64 alpine AS amd64\n"},
		{name: "clean other arg", dockerfile: "ARG P=linux/amd64\nFROM --platform=$P alpine\n"},
		{name: "clean build platform named", dockerfile: "FROM --platform=$BUILDPLATFORM golang AS build\n"},
	},
	"SecretsUsedInArgOrEnv": {
		{name: "arg password", dockerfile: "FROM alpine\nARG PASSWORD\n", want: []int{2}},
		{name: "env api key", dockerfile: "FROM alpine\nENV API_KEY=x\n", want: []int{2}},
		{name: "env token", dockerfile: "FROM alpine\nENV GITHUB_TOKEN=x\n", want: []int{2}},
		{name: "secret inside", dockerfile: "FROM alpine\nARG AWS_SECRET_ACCESS_KEY\n", want: []int{2}},
		{name: "lower case", dockerfile: "FROM alpine\nENV db_password=x\n", want: []int{2}},
		{name: "two names", dockerfile: "FROM alpine\nARG USER_AUTH NPM_TOKEN\n", want: []int{2, 2}},
		{name: "legacy env", dockerfile: "FROM alpine\nENV SECRET abc\n", want: []int{2}},
		{name: "clean public key", dockerfile: "FROM alpine\nARG PUBLIC_KEY\n"},
		{name: "clean password file", dockerfile: "FROM alpine\nENV PASSWORD_FILE=/run/secrets/db\n"},
		{name: "clean version", dockerfile: "FROM alpine\nARG TOKEN_VERSION=2\n"},
		{name: "clean keyboard", dockerfile: "FROM alpine\nENV KEYBOARD=us\n"},
		{name: "clean global arg", dockerfile: "ARG SECRET=x\nFROM alpine\n"},
		{name: "clean monkey", dockerfile: "FROM alpine\nENV MONKEY=1\n"},
	},
	"InvalidDefaultArgInFrom": {
		{name: "empty tag", dockerfile: "ARG TAG\nFROM alpine:$TAG\n", want: []int{2}},
		{name: "empty image", dockerfile: "ARG IMG\nFROM $IMG\n", want: []int{2}},
		{name: "empty registry", dockerfile: "ARG REPO\nFROM $REPO/app:1\n", want: []int{2}},
		{name: "empty default", dockerfile: "ARG V=\nFROM node:$V\n", want: []int{2}},
		{name: "upper case default", dockerfile: "ARG IMG=Alpine\nFROM $IMG\n", want: []int{2}},
		{name: "second stage", dockerfile: "ARG T\nFROM alpine AS a\nFROM debian:${T}\n", want: []int{3}},
		{name: "clean default", dockerfile: "ARG TAG=3.20\nFROM alpine:$TAG\n"},
		{name: "clean fallback", dockerfile: "ARG TAG\nFROM alpine:${TAG:-3.20}\n"},
		{name: "clean no args", dockerfile: "FROM alpine:3.20\n"},
		{name: "clean predefined", dockerfile: "FROM alpine:$TARGETARCH\n"},
		{name: "clean image and tag", dockerfile: "ARG IMG=alpine\nFROM ${IMG}:latest\n"},
		{name: "clean registry", dockerfile: "ARG REG=registry.example.com:5000\nFROM $REG/team/app:1.0\n"},
	},
	"FromPlatformFlagConstDisallowed": {
		{name: "linux/amd64", dockerfile: "FROM --platform=linux/amd64 alpine\n", want: []int{1}},
		{name: "named", dockerfile: "FROM --platform=linux/arm64 alpine AS build\n", want: []int{1}},
		{name: "arch only", dockerfile: "FROM --platform=arm64 alpine AS x\n", want: []int{1}},
		{name: "windows", dockerfile: "FROM --platform=windows/amd64 alpine AS runner\n", want: []int{1}},
		{name: "second stage", dockerfile: "FROM alpine AS a\nFROM --platform=linux/arm/v7 alpine AS b\n", want: []int{2}},
		{name: "normalized name", dockerfile: "FROM --platform=linux/aarch64 alpine AS aarch64\n", want: []int{1}},
		{name: "clean variable", dockerfile: "FROM --platform=$BUILDPLATFORM alpine\n"},
		{name: "clean name has arch", dockerfile: "FROM --platform=linux/arm64 alpine AS build-arm64\n"},
		{name: "clean name has os", dockerfile: "FROM --platform=linux/amd64 alpine AS linux-builder\n"},
		{name: "clean normalized arch in name", dockerfile: "FROM --platform=linux/x86_64 alpine AS build-amd64\n"},
		{name: "clean arg", dockerfile: "ARG P=linux/amd64\nFROM --platform=$P alpine\n"},
		{name: "clean none", dockerfile: "FROM alpine\n"},
	},
	"CopyIgnoredFile": {
		{name: "file", dockerfile: "FROM alpine\nCOPY README.md /docs/\n", want: []int{2}, config: ignoring("*.md")},
		{name: "add", dockerfile: "FROM alpine\nADD notes.md /docs/\n", want: []int{2}, config: ignoring("*.md")},
		{name: "inside ignored folder", dockerfile: "FROM alpine\nCOPY node_modules/x /y\n", want: []int{2}, config: ignoring("node_modules")},
		{name: "root with star", dockerfile: "FROM alpine\nCOPY . /app\n", want: []int{2}, config: ignoring("*")},
		{name: "dot slash", dockerfile: "FROM alpine\nCOPY ./tmp/x /y\n", want: []int{2}, config: ignoring("tmp")},
		{name: "from arg", dockerfile: "FROM alpine\nARG F=secret.env\nCOPY $F /x\n", want: []int{3}, config: ignoring("*.env")},
		{name: "two sources", dockerfile: "FROM alpine\nCOPY a.md b.md /d/\n", want: []int{2, 2}, config: ignoring("*.md")},
		{name: "clean exclusion", dockerfile: "FROM alpine\nCOPY README.md /docs/\n", config: ignoring("*.md", "!README.md")},
		{name: "clean from stage", dockerfile: "FROM alpine AS a\nFROM alpine\nCOPY --from=a README.md /x\n", config: ignoring("*.md")},
		{name: "clean url", dockerfile: "FROM alpine\nADD https://example.com/x.md /x\n", config: ignoring("*.md")},
		{name: "clean no dockerignore", dockerfile: "FROM alpine\nCOPY README.md /x\n"},
		{name: "clean other file", dockerfile: "FROM alpine\nCOPY main.go /src/\n", config: ignoring("*.md")},
		{name: "clean root", dockerfile: "FROM alpine\nCOPY . /app\n", config: ignoring("*.md")},
	},
	"ExposeProtoCasing": {
		{name: "tcp", dockerfile: "FROM alpine\nEXPOSE 80/TCP\n", want: []int{2}},
		{name: "udp", dockerfile: "FROM alpine\nEXPOSE 53/Udp\n", want: []int{2}},
		{name: "two ports", dockerfile: "FROM alpine\nEXPOSE 80/TCP 443/TCP\n", want: []int{2, 2}},
		{name: "range", dockerfile: "FROM alpine\nEXPOSE 8000-8010/TCP\n", want: []int{2}},
		{name: "from arg", dockerfile: "FROM alpine\nARG P=80/TCP\nEXPOSE $P\n", want: []int{3}},
		{name: "sctp", dockerfile: "FROM alpine\nEXPOSE 9/SCTP\n", want: []int{2}},
		{name: "clean lower", dockerfile: "FROM alpine\nEXPOSE 80/tcp\n"},
		{name: "clean no protocol", dockerfile: "FROM alpine\nEXPOSE 80\n"},
		{name: "clean udp", dockerfile: "FROM alpine\nEXPOSE 53/udp 53/tcp\n"},
		{name: "clean range", dockerfile: "FROM alpine\nEXPOSE 8000-8010\n"},
		{name: "clean arg", dockerfile: "FROM alpine\nARG P=80\nEXPOSE $P/tcp\n"},
		{name: "clean label", dockerfile: "FROM alpine\nLABEL port=80/TCP\n"},
	},
	"ExposeInvalidFormat": {
		{name: "host port", dockerfile: "FROM alpine\nEXPOSE 8080:80\n", want: []int{2}},
		{name: "ip", dockerfile: "FROM alpine\nEXPOSE 127.0.0.1:8080:80\n", want: []int{2}},
		{name: "second of two", dockerfile: "FROM alpine\nEXPOSE 80 8080:80/udp\n", want: []int{2}},
		{name: "empty host port", dockerfile: "FROM alpine\nEXPOSE 127.0.0.1::80\n", want: []int{2}},
		{name: "from arg", dockerfile: "FROM alpine\nARG P=8080:80\nEXPOSE $P\n", want: []int{3}},
		{name: "host range", dockerfile: "FROM alpine\nEXPOSE 8000-8001:80-81\n", want: []int{2}},
		{name: "clean port", dockerfile: "FROM alpine\nEXPOSE 80\n"},
		{name: "clean range", dockerfile: "FROM alpine\nEXPOSE 80-90\n"},
		{name: "clean udp", dockerfile: "FROM alpine\nEXPOSE 80/udp\n"},
		{name: "clean several", dockerfile: "FROM alpine\nEXPOSE 80 443 8080/tcp\n"},
		{name: "clean arg", dockerfile: "FROM alpine\nARG P=80\nEXPOSE ${P}\n"},
		{name: "clean label", dockerfile: "FROM alpine\nLABEL ports=8080:80\n"},
	},
	"InvalidDefinitionDescription": {
		{name: "arg", dockerfile: "FROM alpine\n# the version to install\nARG VERSION=1\n", want: []int{3}},
		{name: "stage", dockerfile: "# the build stage\nFROM alpine AS build\n", want: []int{2}},
		{name: "global arg", dockerfile: "# base image tag\nARG TAG=3\nFROM alpine:$TAG\n", want: []int{2}},
		{name: "several args", dockerfile: "FROM alpine\n# versions\nARG A=1 B=2\n", want: []int{3}},
		{name: "last comment counts", dockerfile: "FROM alpine\n# VERSION is good\n# but this is not\nARG VERSION=1\n", want: []int{4}},
		{name: "wrong name", dockerfile: "FROM alpine\n# VERSIONS to install\nARG VERSION=1\n", want: []int{3}},
		{name: "clean arg", dockerfile: "FROM alpine\n# VERSION the version to install\nARG VERSION=1\n"},
		{name: "clean stage", dockerfile: "# build compiles the app\nFROM alpine AS build\n"},
		{name: "clean separated", dockerfile: "FROM alpine\n# a note\n#\nARG VERSION=1\n"},
		{name: "empty line does not separate", dockerfile: "FROM alpine\n# a note\n\nARG VERSION=1\n", want: []int{4}},
		{name: "clean unnamed stage", dockerfile: "# a note\nFROM alpine\n"},
		{name: "clean other instruction", dockerfile: "FROM alpine\n# install things\nRUN true\n"},
		{name: "clean one of several", dockerfile: "FROM alpine\n# B the second\nARG A=1 B=2\n"},
	},
}

// ignoring is a configuration with .dockerignore patterns.
func ignoring(patterns ...string) *Config {
	cfg := DefaultConfig()
	cfg.DockerIgnore = patterns
	return cfg
}

// directCheck runs check on a case's Dockerfile outside the engine and
// returns the lines it reported on.
func directCheck(tc ruleCase, rule *Rule, check func(*Document, *Reporter)) ([]int, []string) {
	cfg := tc.config
	if cfg == nil {
		cfg = DefaultConfig()
		cfg.Experimental = true
	}
	d := Parse("Dockerfile", []byte(tc.dockerfile))
	d.config = cfg
	r := &Reporter{rule: rule, doc: d}
	check(d, r)
	var lines []int
	var msgs []string
	for _, f := range r.findings {
		lines = append(lines, f.Line)
		msgs = append(msgs, fmt.Sprintf("%d: %s", f.Line, f.Message))
	}
	return lines, msgs
}

// runDirectCases is runRuleCases for a check run outside the engine.
func runDirectCases(t *testing.T, rule *Rule, check func(*Document, *Reporter), cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, msgs := directCheck(tc, rule, check)
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s fired on lines %v, want %v\nDockerfile:\n%s\nfindings:\n%s", rule.Code, got, tc.want, numbered(tc.dockerfile), strings.Join(msgs, "\n"))
			}
		})
	}
}

func TestBuildKitChecks(t *testing.T) {
	codes := make([]string, 0, len(buildkitCases))
	for code := range buildkitCases {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		t.Run(code, func(t *testing.T) {
			rule, ok := RuleByCode(code)
			if !ok {
				t.Fatalf("no rule %s", code)
			}
			_, partner := RuleByCode(rule.SameAs)
			switch {
			case code == "MultipleInstructionsDisallowed":
				// BuildKit's own behaviour, as when no hadolint rule takes
				// the instruction types over.
				runDirectCases(t, rule, func(d *Document, r *Reporter) {
					reportUsedOnce(d, r, func(string) bool { return false })
				}, buildkitCases[code])
			case rule.SameAs != "" && partner:
				// The engine leaves the finding to the hadolint rule.
				runDirectCases(t, rule, rule.Check, buildkitCases[code])
			default:
				runRuleCases(t, code, buildkitCases[code])
			}
		})
	}
}

func TestBuildKitCaseCount(t *testing.T) {
	total := 0
	for _, rule := range Rules() {
		if !strings.HasPrefix(rule.URL, "https://docs.docker.com/go/dockerfile/rule/") {
			continue
		}
		cases := buildkitCases[rule.Code]
		hits := 0
		for _, tc := range cases {
			if len(tc.want) > 0 {
				hits++
			}
		}
		if hits < 5 || len(cases)-hits < 5 {
			t.Errorf("%s has %d hitting and %d clean cases, want at least 5 of each", rule.Code, hits, len(cases)-hits)
		}
		total += len(cases)
	}
	if len(buildkitCases) != 21 {
		t.Errorf("%d BuildKit checks have cases, want 21", len(buildkitCases))
	}
	if total < 200 {
		t.Errorf("%d BuildKit cases, want at least 200", total)
	}
}

func TestBuildKitMessages(t *testing.T) {
	for _, tc := range []struct {
		code, dockerfile, want string
		config                 *Config
	}{
		{"StageNameCasing", "FROM alpine AS Build\n", "Stage name 'Build' should be lowercase", nil},
		{"FromAsCasing", "FROM alpine as build\n", "'as' and 'FROM' keywords' casing do not match", nil},
		{"NoEmptyContinuation", "FROM alpine\nRUN a \\\n\n  b\n", "Empty continuation line", nil},
		{"ConsistentInstructionCasing", "FROM alpine\nrun true\n", "Command 'run' should match the case of the command majority (uppercase)", nil},
		{"DuplicateStageName", "FROM alpine AS a\nFROM alpine AS A\n", `Duplicate stage name "a", stage names should be unique`, nil},
		{"ReservedStageName", "FROM alpine AS context\n", `Stage name should not use the same name as reserved stage "context"`, nil},
		{"JSONArgsRecommended", "FROM alpine\nentrypoint app\n", "JSON arguments recommended for entrypoint to prevent unintended behavior related to OS signals", nil},
		{"MaintainerDeprecated", "FROM alpine\nMAINTAINER me\n", "Maintainer instruction is deprecated in favor of using label", nil},
		{"UndefinedArgInFrom", "ARG VERSION=1\nFROM alpine:$VERSIN\n", "FROM argument 'VERSIN' is not declared (did you mean VERSION?)", nil},
		{"WorkdirRelativePath", "FROM alpine\nWORKDIR app\n", `Relative workdir "app" can have unexpected results if the base image changes`, nil},
		{"UndefinedVar", "FROM alpine\nENV APP_DIR=/a\nCOPY . $APPDIR\n", "Usage of undefined variable '$APPDIR' (did you mean $APP_DIR?)", nil},
		{"MultipleInstructionsDisallowed", "FROM alpine\nCMD [\"a\"]\ncmd [\"b\"]\n", "Multiple cmd instructions should not be used in the same stage because only the last one will be used", nil},
		{"LegacyKeyValueFormat", "FROM alpine\nLABEL a b\n", `"LABEL key=value" should be used instead of legacy "LABEL key value" format`, nil},
		{"RedundantTargetPlatform", "FROM --platform=${TARGETPLATFORM} alpine\n", "Setting platform to predefined ${TARGETPLATFORM} in FROM is redundant as this is the default behavior", nil},
		{"SecretsUsedInArgOrEnv", "FROM alpine\nENV API_TOKEN=x\n", `Do not use ARG or ENV instructions for sensitive data (ENV "API_TOKEN")`, nil},
		{"InvalidDefaultArgInFrom", "ARG TAG\nFROM alpine:$TAG\n", "Default value for ARG alpine:$TAG results in empty or invalid base image name", nil},
		{"FromPlatformFlagConstDisallowed", "FROM --platform=linux/arm64 alpine\n", `FROM --platform flag should not use constant value "linux/arm64"`, nil},
		{"CopyIgnoredFile", "FROM alpine\nADD ./docs/a.md /x\n", `Attempting to Add file "docs/a.md" that is excluded by .dockerignore`, ignoring("docs")},
		{"ExposeProtoCasing", "FROM alpine\nEXPOSE 53/UDP\n", "Defined protocol '53/UDP' in EXPOSE instruction should be lowercase", nil},
		{"ExposeInvalidFormat", "FROM alpine\nEXPOSE 8080:80\n", "EXPOSE instruction should not define an IP address or host-port mapping, found '8080:80'", nil},
		{"InvalidDefinitionDescription", "# the tag\nARG TAG=1\nFROM alpine\n", "Comment for ARG should follow the format: `# TAG <description>`", nil},
	} {
		t.Run(tc.code, func(t *testing.T) {
			rule, ok := RuleByCode(tc.code)
			if !ok {
				t.Fatalf("no rule %s", tc.code)
			}
			check := rule.Check
			if tc.code == "MultipleInstructionsDisallowed" {
				check = func(d *Document, r *Reporter) { reportUsedOnce(d, r, func(string) bool { return false }) }
			}
			_, msgs := directCheck(ruleCase{dockerfile: tc.dockerfile, config: tc.config}, rule, check)
			if len(msgs) != 1 || !strings.HasSuffix(msgs[0], ": "+tc.want) {
				t.Errorf("%s(%q) = %q, want one finding %q", tc.code, tc.dockerfile, msgs, tc.want)
			}
		})
	}
}

func TestBuildKitRuleMetadata(t *testing.T) {
	for code := range buildkitCases {
		rule, ok := RuleByCode(code)
		if !ok {
			t.Fatalf("no rule %s", code)
		}
		if rule.Severity != Warning || !strings.HasPrefix(rule.URL, "https://docs.docker.com/go/dockerfile/rule/") || rule.Message == "" {
			t.Errorf("%s: severity %v, URL %q, message %q", code, rule.Severity, rule.URL, rule.Message)
		}
		if rule.Experimental != (code == "InvalidDefinitionDescription") {
			t.Errorf("%s: experimental = %v", code, rule.Experimental)
		}
	}
}

// TestBuildKitSameAs checks that a BuildKit check that duplicates a
// hadolint rule gives one finding, under the hadolint code, and that
// ignoring either code silences it.
func TestBuildKitSameAs(t *testing.T) {
	for _, tc := range []struct{ code, partner, dockerfile string }{
		{"MaintainerDeprecated", "DL4000", "FROM alpine\nMAINTAINER me\n"},
		{"JSONArgsRecommended", "DL3025", "FROM alpine\nCMD echo hi\n"},
		{"WorkdirRelativePath", "DL3000", "FROM alpine\nWORKDIR app\n"},
		{"DuplicateStageName", "DL3024", "FROM alpine AS a\nFROM alpine AS a\n"},
		{"RedundantTargetPlatform", "DL3065", "FROM --platform=$TARGETPLATFORM alpine\n"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			rule, _ := RuleByCode(tc.code)
			if rule.SameAs != tc.partner {
				t.Fatalf("%s.SameAs = %q, want %q", tc.code, rule.SameAs, tc.partner)
			}
			if _, ok := RuleByCode(tc.partner); !ok {
				t.Skipf("%s is not registered", tc.partner)
			}
			codes := func(cfg *Config) []string {
				var out []string
				for _, f := range Lint("Dockerfile", []byte(tc.dockerfile), cfg) {
					if f.Code == tc.code || f.Code == tc.partner {
						out = append(out, f.Code)
					}
				}
				return out
			}
			cfg := DefaultConfig()
			cfg.Shellcheck = false
			if got := codes(cfg); !slices.Equal(got, []string{tc.partner}) {
				t.Errorf("Lint(%q) codes = %v, want [%s]", tc.dockerfile, got, tc.partner)
			}
			for _, ignore := range []string{tc.code, tc.partner} {
				cfg.Ignored = []string{ignore}
				if got := codes(cfg); len(got) != 0 {
					t.Errorf("ignoring %s: Lint(%q) codes = %v, want none", ignore, tc.dockerfile, got)
				}
			}
		})
	}
}

// TestMultipleInstructionsLeftToHadolint checks that the hadolint rules for
// a second CMD, ENTRYPOINT and HEALTHCHECK report them alone when they are
// registered.
func TestMultipleInstructionsLeftToHadolint(t *testing.T) {
	for kind, partner := range usedOnceOwners {
		t.Run(kind, func(t *testing.T) {
			if _, ok := RuleByCode(partner); !ok {
				t.Skipf("%s is not registered", partner)
			}
			word := map[string]string{"cmd": "CMD [\"a\"]", "entrypoint": "ENTRYPOINT [\"a\"]", "healthcheck": "HEALTHCHECK NONE"}[kind]
			src := "FROM alpine\n" + word + "\n" + word + "\n"
			var got []string
			for _, f := range Lint("Dockerfile", []byte(src), DefaultConfig()) {
				if f.Code == "MultipleInstructionsDisallowed" || f.Code == partner {
					got = append(got, f.Code)
				}
			}
			if !slices.Equal(got, []string{partner}) {
				t.Errorf("Lint(%q) codes = %v, want [%s]", src, got, partner)
			}
		})
	}
}

func TestReadDockerIgnore(t *testing.T) {
	got, err := ReadDockerIgnore(strings.NewReader("# comment\n/build\n  *.md  \n!README.md\n\nnode_modules/\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"build", "*.md", "!README.md", "node_modules"}
	if !slices.Equal(got, want) {
		t.Errorf("ReadDockerIgnore = %q, want %q", got, want)
	}
}

func TestValidReference(t *testing.T) {
	for ref, want := range map[string]bool{
		"alpine": true, "alpine:3.20": true, "library/alpine": true, "docker.io/library/alpine:latest": true,
		"localhost:5000/app": true, "registry.example.com/team/app:v1.2": true, "[::1]:5000/app": true,
		"app@sha256:" + strings.Repeat("a", 64): true, "MyRegistry/app": true, "a__b/c-d.e": true,
		"": false, "alpine:": false, "/app": false, "Alpine": false, "app/Name": false, "alpine:-x": false,
		strings.Repeat("a", 64): false, "a//b": false, "app@sha256:abc": false,
	} {
		if got := validReference(ref); got != want {
			t.Errorf("validReference(%q) = %v, want %v", ref, got, want)
		}
	}
}

func TestParsePlatform(t *testing.T) {
	for _, tc := range []struct {
		spec, os, arch string
		ok             bool
	}{
		{"linux/amd64", "linux", "amd64", true},
		{"linux/x86_64", "linux", "amd64", true},
		{"Linux/AArch64", "linux", "arm64", true},
		{"linux/arm/v7", "linux", "arm", true},
		{"windows", "windows", "amd64", true},
		{"macos/arm64", "darwin", "arm64", true},
		{"arm64", "linux", "arm64", true},
		{"i386", "linux", "386", true},
		{"nonsense", "", "", false},
		{"linux/*", "", "", false},
		{"a/b/c/d", "", "", false},
		{"linux amd64", "", "", false},
	} {
		os, arch, ok := parsePlatform(tc.spec)
		if os != tc.os || arch != tc.arch || ok != tc.ok {
			t.Errorf("parsePlatform(%q) = %q, %q, %v; want %q, %q, %v", tc.spec, os, arch, ok, tc.os, tc.arch, tc.ok)
		}
	}
}
