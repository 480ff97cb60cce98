# syntax=docker/dockerfile:1
# DSDC in one image: built and published with the .NET SDK, run on the ASP.NET Core runtime image with Tesseract 5
# (English) and MuPDF's command-line renderer. Both stages are Ubuntu 24.04 (noble), the default distribution of the
# .NET 10 images, pinned here so that the package names below (noble's) stay right.
# Build: docker build -t dsdc .        Run: see docker-compose.yml and docs/deployment.md.

ARG DOTNET_VERSION=10.0

FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION}-noble AS build
ENV DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
WORKDIR /src
# The whole build context (.dockerignore keeps outputs, data, models and secrets out): projects import .targets files
# from their own folders and embed ../sql, so copying project files alone for a separate restore layer would break
# whenever the layout grows. Restore runs as part of publish.
COPY . .
RUN dotnet publish Dsdc.Web/Dsdc.Web.csproj -c Release -o /out -p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION}-noble AS runtime
# Tesseract through its C API (libtesseract.so.5; it pulls Leptonica, liblept.so.5 on noble), mutool for PDF pages,
# curl for the HEALTHCHECK.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        tesseract-ocr tesseract-ocr-eng libtesseract5 mupdf-tools curl ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /out ./
# The content root is /app (appsettings.json sits beside the binary); data/ and models/ are volumes owned by the
# image's non-root user 'app' ($APP_UID, 1654), which a new named volume inherits.
RUN mkdir -p data/to_ingest data/raw data/processed data/rejected models \
    && chown -R "$APP_UID:$APP_UID" data models
ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_HTTP_PORTS= \
    Dsdc__DataDir=/app/data \
    Dsdc__ModelsDir=/app/models \
    OMP_THREAD_LIMIT=1 \
    DOTNET_NOLOGO=1
VOLUME ["/app/data", "/app/models"]
EXPOSE 8080
USER $APP_UID
HEALTHCHECK --interval=15s --timeout=5s --start-period=90s --retries=3 \
    CMD curl -fsS -o /dev/null http://127.0.0.1:8080/health/ready || exit 1
# No argument serves; `worker` runs only the job servers with /health and /metrics (compose's worker service, same
# HEALTHCHECK); any CLI command works too: docker compose run --rm app migrate
ENTRYPOINT ["dotnet", "Dsdc.Web.dll"]
