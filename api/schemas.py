"""What the API reads and writes, as pydantic schemas (they make the OpenAPI schema). Input
schemas forbid unknown fields: a typo in a field name is an error, never silently ignored."""


import datetime
from typing import Any, Literal

from django.conf import settings
from ninja import Field, Schema
from pydantic import ConfigDict

PAGE_SIZE_MAX = settings.API_PAGE_SIZE_MAX


class StrictSchema(Schema):
    model_config = ConfigDict(extra="forbid")


# --- environments --------------------------------------------------------------------------------


class EnvironmentOut(Schema):
    id: int
    name: str
    short_name: str
    kind: str
    parent: int | None = Field(None, description="The environment directly above; null for the token's own environment.")


# --- relations -----------------------------------------------------------------------------------

Gender = Literal["f", "m", "x", ""]


class RelationOut(Schema):
    id: int
    number: int
    kind: str
    environment: int = Field(..., validation_alias="tenant_id", description="The home environment.")
    initials: str
    first_name: str
    infix: str
    last_name: str
    organisation_name: str
    gender: str
    birth_date: datetime.date | None
    email: str
    phone: str
    mobile: str
    street: str
    house_number: int | None
    house_number_suffix: str
    postcode: str
    city: str
    country: str
    language: str
    magazine_delivery: str
    extra: dict[str, Any] = Field(..., description="Custom fields, by code.")


class RelationPage(Schema):
    items: list[RelationOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page; null on the last page.")


class RelationFields(StrictSchema):
    initials: str = Field("", max_length=20)
    first_name: str = Field("", max_length=80)
    infix: str = Field("", max_length=20)
    last_name: str = Field("", max_length=120)
    organisation_name: str = Field("", max_length=200)
    gender: Gender = ""
    birth_date: datetime.date | None = None
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=30)
    mobile: str = Field("", max_length=30)
    street: str = Field("", max_length=120)
    house_number: int | None = Field(None, ge=1, le=999999)
    house_number_suffix: str = Field("", max_length=10)
    postcode: str = Field("", max_length=10)
    city: str = Field("", max_length=80)
    country: str = Field("NL", max_length=2)
    language: Literal["nl", "en"] = "nl"
    magazine_delivery: Literal["automatic", "blocked"] = "automatic"
    extra: dict[str, Any] = Field(default_factory=dict, description="Custom fields, by code.")


class FirstFunctionIn(StrictSchema):
    function_type: str = Field(..., description="The code of the function type, e.g. `department_member`.")
    environment: int = Field(..., description="Where the function is held: this environment or one below it.")
    start_date: datetime.date


class RelationCreateIn(RelationFields):
    kind: Literal["person", "organisation"] = "person"
    first_function: FirstFunctionIn = Field(..., description="A new relation always starts with a function.")


class RelationUpdateIn(StrictSchema):
    """Only the fields sent change."""

    initials: str | None = Field(None, max_length=20)
    first_name: str | None = Field(None, max_length=80)
    infix: str | None = Field(None, max_length=20)
    last_name: str | None = Field(None, max_length=120)
    organisation_name: str | None = Field(None, max_length=200)
    gender: Gender | None = None
    birth_date: datetime.date | None = None
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=30)
    mobile: str | None = Field(None, max_length=30)
    street: str | None = Field(None, max_length=120)
    house_number: int | None = Field(None, ge=1, le=999999)
    house_number_suffix: str | None = Field(None, max_length=10)
    postcode: str | None = Field(None, max_length=10)
    city: str | None = Field(None, max_length=80)
    country: str | None = Field(None, max_length=2)
    language: Literal["nl", "en"] | None = None
    magazine_delivery: Literal["automatic", "blocked"] | None = None
    extra: dict[str, Any] | None = Field(None, description="Custom fields, by code: replaces them all.")


# --- functions -----------------------------------------------------------------------------------


class FunctionOut(Schema):
    id: int
    relation: int = Field(..., validation_alias="relation_id")
    function_type: str = Field(..., validation_alias="function_type.code")
    function_name: str = Field(..., validation_alias="function_type.name")
    environment: int = Field(..., validation_alias="tenant_id")
    start_date: datetime.date
    end_date: datetime.date | None
    counts_as_membership: bool = Field(..., validation_alias="function_type.counts_as_membership")
    cancellation_reason: int | None = Field(None, validation_alias="cancellation_reason_id")
    cancellation_note: str


class FunctionStartIn(StrictSchema):
    function_type: str = Field(..., description="The code of the function type.")
    environment: int = Field(..., description="Where the function is held: this environment or one below it.")
    start_date: datetime.date
    end_date: datetime.date | None = None


class FunctionEndIn(StrictSchema):
    end_date: datetime.date = Field(..., description="Today or later. A membership ends every function of the relation.")
    reason: int | None = Field(None, description="A cancellation reason (GET /cancellation-reasons).")
    note: str = Field("", max_length=300)


class CodeName(Schema):
    id: int
    code: str = ""
    name: str


# --- registrations -------------------------------------------------------------------------------


class RegistrationIn(StrictSchema):
    values: dict[str, str | int | bool | None] = Field(
        ..., description="The answers, keyed by the targets of the department's intake form (GET …/intake-form).",
    )


class IntakeFormRowOut(Schema):
    target: str
    label: str
    required: bool


class IntakeFormOut(Schema):
    name: str
    environment: int
    rows: list[IntakeFormRowOut]


class RegistrationOut(Schema):
    id: int
    status: str
    environment: int = Field(..., validation_alias="tenant_id", description="Where the registration is processed.")
    department: int = Field(..., validation_alias="department_id")
    submitted_at: datetime.datetime
