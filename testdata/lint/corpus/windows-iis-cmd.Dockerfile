# escape=`
# check=skip=JSONArgsRecommended
FROM mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2019
SHELL ["cmd", "/S", "/C"]
RUN mkdir C:\inetpub\wwwroot\site && `
    echo ^<h1^>Hello^</h1^> > C:\inetpub\wwwroot\site\index.html
RUN powershell -NoProfile -Command `
      Import-Module WebAdministration; `
      New-WebSite -Name 'site' -Port 8000 -PhysicalPath 'C:\inetpub\wwwroot\site'
COPY web.config C:\inetpub\wwwroot\site\
EXPOSE 8000
HEALTHCHECK CMD powershell -Command try { Invoke-WebRequest http://localhost:8000 -UseBasicParsing } catch { exit 1 }
ENTRYPOINT C:\ServiceMonitor.exe w3svc
