"""One settings object, built at the edge (environment, `local.settings.json`) and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The issuer of the one statement layout there is (`wex_cardholder_activity`, WEX's Cardholder Activity
# Report): the statement itself never prints its issuer's name, so the default is fixed here.
DEFAULT_CARD_VENDOR = "WEX"


class PvaultConventions(BaseModel):
    """Fixed values of the accounts-payable import, as the export it replaces wrote them.

    `card_vendor` is what every row's `Credit Card Vendor` holds: the card vendor the month's card
    invoice is owed to (the replaced export's data model gives `Visa` as its example; its import
    fixes the vendor's id), never the merchant. Set it as the `PVAULT_CARD_VENDOR` setting.
    """

    model_config = ConfigDict(frozen=True)

    unit_of_measure: str = "LS"
    tax: str = "XX"
    pay_type_job: str = "2"
    pay_type_gl: str = "1"
    vendor_invoice_format: str = Field(
        default="{card_last4}{month:%m}01{month:%y}",
        description="card last 4 + MM01YY of the statement month",
    )
    card_vendor: str = Field(
        default=DEFAULT_CARD_VENDOR,
        min_length=1,
        description="Credit Card Vendor: the card vendor (its id in accounts payable), not the merchant",
    )


class Settings(BaseSettings):
    """Everything a run may be told; every runtime reads the same names."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True, populate_by_name=True)

    date_window_days: int = Field(
        default=3, ge=0, le=31, description="expense date within ± this of the transaction"
    )
    credits_need_refund: bool = Field(
        default=True, description="a credit is Complete only with a refund expense"
    )
    aliases_file: Path = Field(default_factory=lambda: Path.home() / ".ccproc" / "aliases.json")
    temp_storage_path: Path | None = Field(
        default=None, description="scratch folder; the system's when unset"
    )
    pvault_card_vendor: str = Field(
        default=DEFAULT_CARD_VENDOR,
        min_length=1,
        description="pvault.csv's Credit Card Vendor: the card vendor as accounts payable knows it",
    )
    # Declared after `pvault_card_vendor`: its validator reads that setting into the conventions.
    pvault: PvaultConventions = Field(default=PvaultConventions(), validate_default=True)

    # The pipeline's storage: names shared by the Functions bindings (%NAME%), Kubernetes and local runs.
    storage_connection: str = Field(default="", alias="AzureWebJobsStorage", repr=False)
    # Keyless: the account's endpoints and an Azure identity. The Functions host's identity-based
    # connection (AzureWebJobsStorage__*) is read too, so one set of app settings serves the host's
    # triggers and the product's own calls (shared.storage.access picks from them).
    azure_storage_account_url: str = Field(
        default="",
        validation_alias=AliasChoices("AZURE_STORAGE_ACCOUNT_URL", "AzureWebJobsStorage__blobServiceUri"),
        description="keyless: the account's blob endpoint, with an Azure identity",
    )
    storage_queue_url: str = Field(
        default="", alias="AzureWebJobsStorage__queueServiceUri", description="keyless: the queue endpoint"
    )
    storage_account_name: str = Field(
        default="", alias="AzureWebJobsStorage__accountName", description="keyless: endpoints by name"
    )
    storage_credential: str = Field(
        default="", alias="AzureWebJobsStorage__credential", description="managedidentity, or unset"
    )
    storage_client_id: str = Field(
        default="", alias="AzureWebJobsStorage__clientId", description="a user-assigned identity's client id"
    )
    uploads_container: str = "uploads"
    sessions_container: str = "sessions"
    results_queue: str = "results"
    # Where the Functions host puts a blob its blob trigger failed on every try (its fixed name).
    uploads_poison_queue: str = "webjobs-blobtrigger-poison"
    max_upload_bytes: int = Field(
        default=100 * 1024 * 1024, description="largest PUT body; bigger files use a SAS URL"
    )
    max_file_bytes: int = Field(
        default=2 * 1024 * 1024 * 1024, description="largest file the web page sends through a SAS URL"
    )
    upload_block_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=64 * 1024,
        le=100 * 1024 * 1024,
        description="block size of browser uploads through a SAS URL (a retried block stays cheap)",
    )
    upload_url_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # A month is one statement and one receipts report, with room for newer copies of either.
    max_files_per_session: int = Field(default=20, ge=1, description="files one session may hold")
    # Per tenant (API key, or signed-in principal): a clerk keeps a session a month, some re-runs, for
    # `retention_days`; these stop one tenant from filling the account or slowing the others.
    max_sessions_per_tenant: int = Field(
        default=200, ge=1, description="sessions one tenant holds at once (until deleted or expired)"
    )
    max_stored_bytes_per_tenant: int = Field(
        default=50 * 1024 * 1024 * 1024,
        ge=1024 * 1024,
        description="bytes one tenant's sessions may hold in storage (uploads, copies, reports)",
    )
    session_page_size: int = Field(
        default=50, ge=1, le=500, description="sessions in one page of the session list"
    )
    api_key_failures_per_minute: int = Field(
        default=10, ge=1, description="wrong API keys one client may send a minute before it waits (429)"
    )
    retention_days: int = Field(default=90, ge=1)
    orphan_upload_hours: int = Field(default=24, ge=1)
    max_dequeue_count: int = Field(default=5, ge=1, description="tries of a results message before poison")
    # Retries of a storage call that failed transiently (shared.storage.retrying), the one retry layer:
    # bounded well inside a claim's lease term (30 s, renewed every 10 s), so a retried renewal
    # still lands before the claim lapses.
    storage_retry_attempts: int = Field(default=6, ge=1, description="tries of one storage call")
    storage_retry_seconds: float = Field(
        default=8, gt=0, description="no new try of one storage call after this long"
    )
    storage_retry_first_wait_seconds: float = Field(
        default=0.1, gt=0, description="pause before the first retry; it doubles (jittered) after"
    )
    storage_retry_max_wait_seconds: float = Field(default=2, gt=0, description="longest pause between tries")
    # An API request gives up on storage sooner: it answers 503 with Retry-After within seconds of an
    # outage instead of holding its caller (and a server thread) while the steps keep trying.
    api_storage_seconds: float = Field(
        default=3, gt=0, description="no new try of one storage call of an API request after this long"
    )
    sweep_schedule: str = "0 0 3 * * *"
    # Set by the platform when App Service authentication is on: only then does it set
    # x-ms-client-principal-id itself (and strip it from outside requests), so the principal is the tenant.
    website_auth_enabled: bool = Field(default=False, alias="WEBSITE_AUTH_ENABLED")
    extract_processes: int | None = Field(
        default=None, description="processes for long statements; cores if unset"
    )
    # One file's extraction runs in a child process under these limits (shared.extraction.sandbox). Sized from
    # the benchmarks with a wide margin: a 180-page statement reads in a few seconds and a 500 MB
    # receipts report in under a minute of CPU with memory flat at a few hundred MB, so only a
    # hostile or broken file comes near them.
    extract_cpu_seconds: int = Field(
        default=600, ge=1, description="CPU time one file's extraction may use (per process)"
    )
    extract_memory_bytes: int = Field(
        default=2 * 1024 * 1024 * 1024,
        ge=64 * 1024 * 1024,
        description="address space one extraction process may map (RLIMIT_AS)",
    )
    extract_wall_seconds: float = Field(
        default=1200, gt=0, description="wall time one file's extraction may take, waiting included"
    )
    # Telemetry (shared.telemetry): where traces, metrics and logs go, by the platforms' own names.
    applicationinsights_connection_string: str = Field(
        default="", alias="APPLICATIONINSIGHTS_CONNECTION_STRING", repr=False
    )
    otel_exporter_otlp_endpoint: str = Field(default="", alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    trace_dir: Path | None = Field(
        default=None, description="each process writes its spans as JSON lines here (ccproc dev --trace)"
    )
    log_format: Literal["plain", "json"] = Field(
        default="plain", description="json: one JSON object per line, with trace and session ids"
    )

    @field_validator("pvault")
    @classmethod
    def _card_vendor(cls, pvault: PvaultConventions, info: ValidationInfo) -> PvaultConventions:
        """`PVAULT_CARD_VENDOR` into the conventions, unless they were given a card vendor themselves."""
        vendor = info.data.get("pvault_card_vendor")
        if vendor is None or "card_vendor" in pvault.model_fields_set:
            return pvault
        return pvault.model_copy(update={"card_vendor": vendor})
