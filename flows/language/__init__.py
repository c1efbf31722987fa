"""Kestra's flow language, as Flowsite reads it."""

from .flow import FlowDefinition, FlowInvalid, parse_flow, parse_new_flow
from .source import FlowError, flow_documents

__all__ = [
    "FlowDefinition",
    "FlowError",
    "FlowInvalid",
    "flow_documents",
    "parse_flow",
    "parse_new_flow",
]
