"""Kestra's flow language, as Flowsite reads it."""

from .flow import FlowDefinition, FlowInvalid, parse_flow, parse_new_flow
from .source import FlowError

__all__ = ["FlowDefinition", "FlowError", "FlowInvalid", "parse_flow", "parse_new_flow"]
