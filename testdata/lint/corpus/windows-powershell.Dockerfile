# escape=`

FROM mcr.microsoft.com/windows/servercore:ltsc2022
SHELL ["powershell", "-Command", "$ErrorActionPreference = 'Stop'; $ProgressPreference = 'SilentlyContinue';"]

ENV GIT_VERSION=2.44.0 `
    GIT_HOME=C:\git

# Backslashes are plain path separators; the backtick continues lines.
RUN Invoke-WebRequest -Uri "https://github.com/git-for-windows/git/releases/download/v$env:GIT_VERSION.windows.1/MinGit-$env:GIT_VERSION-64-bit.zip" -OutFile C:\mingit.zip ; `
    Expand-Archive -Path C:\mingit.zip -DestinationPath $env:GIT_HOME ; `
    Remove-Item C:\mingit.zip -Force ; `
    [Environment]::SetEnvironmentVariable('PATH', $env:PATH + ';C:\git\cmd', [EnvironmentVariableTarget]::Machine)

WORKDIR C:\build
COPY scripts\ C:\build\scripts\
RUN & C:\build\scripts\setup.ps1 -Verbose
CMD ["powershell", "-NoLogo", "-File", "C:\\build\\scripts\\run.ps1"]
