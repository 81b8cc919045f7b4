# escape=`
FROM mcr.microsoft.com/powershell:lts-nanoserver-ltsc2022
SHELL ["pwsh", "-NoLogo", "-Command"]
RUN New-Item -ItemType Directory -Path C:\data | Out-Null ; `
    Set-Content -Path C:\data\hello.txt -Value 'hello'
CMD ["pwsh", "-Command", "Get-Content C:\\data\\hello.txt"]
