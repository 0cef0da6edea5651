// Generated from docs/openapi.json by scripts/gen-openapi-swift.sh: do not edit.
enum OpenAPIDocument {
    static let text = ##"""
{
  "openapi": "3.0.3",
  "info": {
    "title": "spendlog serve",
    "version": "1.0.0",
    "description": "The read-only JSON API and live dashboard of a spendlog log (docs/SERVE.md). Every answer is the CLI's `--format json` for the same parameters. Nothing here writes to the log. When the server was started with --token-file, every request needs `Authorization: Bearer <token>`."
  },
  "servers": [
    {
      "url": "http://127.0.0.1:8787"
    }
  ],
  "security": [
    {},
    {
      "bearer": []
    }
  ],
  "paths": {
    "/healthz": {
      "get": {
        "operationId": "health",
        "summary": "The server is up.",
        "responses": {
          "200": {
            "description": "Up.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "required": [
                    "status"
                  ],
                  "properties": {
                    "status": {
                      "type": "string",
                      "enum": [
                        "ok"
                      ]
                    }
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          }
        }
      }
    },
    "/v1/stats": {
      "get": {
        "operationId": "stats",
        "summary": "Totals per group (spendlog stats --format json).",
        "description": "The same bytes as `spendlog stats --format json` with the same flags: rows sorted by cost, highest first; time groups by time.",
        "parameters": [
          {
            "$ref": "#/components/parameters/project"
          },
          {
            "$ref": "#/components/parameters/model"
          },
          {
            "$ref": "#/components/parameters/provider"
          },
          {
            "$ref": "#/components/parameters/user"
          },
          {
            "$ref": "#/components/parameters/caller"
          },
          {
            "$ref": "#/components/parameters/role"
          },
          {
            "$ref": "#/components/parameters/task"
          },
          {
            "$ref": "#/components/parameters/session"
          },
          {
            "$ref": "#/components/parameters/status"
          },
          {
            "$ref": "#/components/parameters/tag"
          },
          {
            "$ref": "#/components/parameters/since"
          },
          {
            "$ref": "#/components/parameters/until"
          },
          {
            "$ref": "#/components/parameters/by"
          },
          {
            "$ref": "#/components/parameters/tz"
          },
          {
            "$ref": "#/components/parameters/columns"
          }
        ],
        "responses": {
          "200": {
            "description": "One row per group.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "array",
                  "items": {
                    "$ref": "#/components/schemas/StatsRow"
                  }
                }
              }
            },
            "headers": {
              "Spendlog-Damaged": {
                "$ref": "#/components/headers/Spendlog-Damaged"
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "500": {
            "$ref": "#/components/responses/ServerError"
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          }
        }
      }
    },
    "/v1/daily": {
      "get": {
        "operationId": "daily",
        "summary": "Totals per day (spendlog stats --by day --format json).",
        "description": "Days in tz, oldest first.",
        "parameters": [
          {
            "$ref": "#/components/parameters/project"
          },
          {
            "$ref": "#/components/parameters/model"
          },
          {
            "$ref": "#/components/parameters/provider"
          },
          {
            "$ref": "#/components/parameters/user"
          },
          {
            "$ref": "#/components/parameters/caller"
          },
          {
            "$ref": "#/components/parameters/role"
          },
          {
            "$ref": "#/components/parameters/task"
          },
          {
            "$ref": "#/components/parameters/session"
          },
          {
            "$ref": "#/components/parameters/status"
          },
          {
            "$ref": "#/components/parameters/tag"
          },
          {
            "$ref": "#/components/parameters/since"
          },
          {
            "$ref": "#/components/parameters/until"
          },
          {
            "$ref": "#/components/parameters/tz"
          },
          {
            "$ref": "#/components/parameters/columns"
          }
        ],
        "responses": {
          "200": {
            "description": "One row per day.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "array",
                  "items": {
                    "$ref": "#/components/schemas/StatsRow"
                  }
                }
              }
            },
            "headers": {
              "Spendlog-Damaged": {
                "$ref": "#/components/headers/Spendlog-Damaged"
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "500": {
            "$ref": "#/components/responses/ServerError"
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          }
        }
      }
    },
    "/v1/records": {
      "get": {
        "operationId": "records",
        "summary": "Records, newest first, a page at a time (spendlog logs --format json).",
        "description": "Each page holds at most limit records; next_cursor asks for the next page (null on the last one).",
        "parameters": [
          {
            "$ref": "#/components/parameters/project"
          },
          {
            "$ref": "#/components/parameters/model"
          },
          {
            "$ref": "#/components/parameters/provider"
          },
          {
            "$ref": "#/components/parameters/user"
          },
          {
            "$ref": "#/components/parameters/caller"
          },
          {
            "$ref": "#/components/parameters/role"
          },
          {
            "$ref": "#/components/parameters/task"
          },
          {
            "$ref": "#/components/parameters/session"
          },
          {
            "$ref": "#/components/parameters/status"
          },
          {
            "$ref": "#/components/parameters/tag"
          },
          {
            "$ref": "#/components/parameters/since"
          },
          {
            "$ref": "#/components/parameters/until"
          },
          {
            "$ref": "#/components/parameters/limit"
          },
          {
            "$ref": "#/components/parameters/cursor"
          }
        ],
        "responses": {
          "200": {
            "description": "A page.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "required": [
                    "records",
                    "next_cursor"
                  ],
                  "properties": {
                    "records": {
                      "type": "array",
                      "items": {
                        "$ref": "#/components/schemas/Record"
                      }
                    },
                    "next_cursor": {
                      "type": "string",
                      "nullable": true
                    }
                  }
                }
              }
            },
            "headers": {
              "Spendlog-Damaged": {
                "$ref": "#/components/headers/Spendlog-Damaged"
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "500": {
            "$ref": "#/components/responses/ServerError"
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          }
        }
      }
    },
    "/v1/budget": {
      "get": {
        "operationId": "budget",
        "summary": "Each limit: spent, held, remaining, resets (spendlog budget status --format json).",
        "parameters": [],
        "responses": {
          "200": {
            "description": "One item per limit.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "array",
                  "items": {
                    "$ref": "#/components/schemas/LimitStatus"
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "500": {
            "$ref": "#/components/responses/ServerError"
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          }
        }
      }
    },
    "/v1/report": {
      "get": {
        "operationId": "report",
        "summary": "The report (spendlog report --format json).",
        "description": "Schema in docs/REPORTS.md. By default the current month so far, in tz.",
        "parameters": [
          {
            "$ref": "#/components/parameters/project"
          },
          {
            "$ref": "#/components/parameters/model"
          },
          {
            "$ref": "#/components/parameters/provider"
          },
          {
            "$ref": "#/components/parameters/user"
          },
          {
            "$ref": "#/components/parameters/caller"
          },
          {
            "$ref": "#/components/parameters/role"
          },
          {
            "$ref": "#/components/parameters/task"
          },
          {
            "$ref": "#/components/parameters/session"
          },
          {
            "$ref": "#/components/parameters/status"
          },
          {
            "$ref": "#/components/parameters/tag"
          },
          {
            "$ref": "#/components/parameters/since"
          },
          {
            "$ref": "#/components/parameters/until"
          },
          {
            "$ref": "#/components/parameters/tz"
          },
          {
            "$ref": "#/components/parameters/title"
          }
        ],
        "responses": {
          "200": {
            "description": "The report.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "500": {
            "$ref": "#/components/responses/ServerError"
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          }
        }
      }
    },
    "/v1/changes": {
      "get": {
        "operationId": "changes",
        "summary": "A token that changes when records arrive.",
        "description": "Cheap: lists segments and their sizes only. Also sent as ETag; If-None-Match gives 304.",
        "parameters": [],
        "responses": {
          "200": {
            "description": "The token.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "required": [
                    "token"
                  ],
                  "properties": {
                    "token": {
                      "type": "string"
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "500": {
            "$ref": "#/components/responses/ServerError"
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          }
        }
      }
    },
    "/v1/openapi.json": {
      "get": {
        "operationId": "openapi",
        "summary": "This document.",
        "responses": {
          "200": {
            "description": "The OpenAPI document.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          }
        }
      }
    },
    "/metrics": {
      "get": {
        "operationId": "metrics",
        "summary": "Prometheus text: cost, tokens and requests by project and model (counters), budget utilisation (gauge).",
        "parameters": [],
        "responses": {
          "200": {
            "description": "Prometheus text format 0.0.4.",
            "content": {
              "text/plain": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "500": {
            "$ref": "#/components/responses/ServerError"
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          }
        }
      }
    },
    "/": {
      "get": {
        "operationId": "dashboard",
        "summary": "The live dashboard: the HTML report, reloaded when records arrive.",
        "description": "The report of `spendlog report` for the period in the query string, with a script that polls /v1/changes every second.",
        "parameters": [
          {
            "$ref": "#/components/parameters/project"
          },
          {
            "$ref": "#/components/parameters/model"
          },
          {
            "$ref": "#/components/parameters/provider"
          },
          {
            "$ref": "#/components/parameters/user"
          },
          {
            "$ref": "#/components/parameters/caller"
          },
          {
            "$ref": "#/components/parameters/role"
          },
          {
            "$ref": "#/components/parameters/task"
          },
          {
            "$ref": "#/components/parameters/session"
          },
          {
            "$ref": "#/components/parameters/status"
          },
          {
            "$ref": "#/components/parameters/tag"
          },
          {
            "$ref": "#/components/parameters/since"
          },
          {
            "$ref": "#/components/parameters/until"
          },
          {
            "$ref": "#/components/parameters/tz"
          },
          {
            "$ref": "#/components/parameters/title"
          }
        ],
        "responses": {
          "200": {
            "description": "The page.",
            "content": {
              "text/html": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "500": {
            "$ref": "#/components/responses/ServerError"
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          }
        }
      }
    }
  },
  "components": {
    "securitySchemes": {
      "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "The token in the server's --token-file."
      }
    },
    "parameters": {
      "project": {
        "name": "project",
        "in": "query",
        "required": false,
        "description": "Only these projects (repeatable: any of them).",
        "style": "form",
        "explode": true,
        "schema": {
          "type": "array",
          "items": {
            "type": "string",
            "minLength": 1
          }
        }
      },
      "model": {
        "name": "model",
        "in": "query",
        "required": false,
        "description": "Only these models (repeatable).",
        "style": "form",
        "explode": true,
        "schema": {
          "type": "array",
          "items": {
            "type": "string",
            "minLength": 1
          }
        }
      },
      "provider": {
        "name": "provider",
        "in": "query",
        "required": false,
        "description": "Only these providers (repeatable).",
        "style": "form",
        "explode": true,
        "schema": {
          "type": "array",
          "items": {
            "type": "string",
            "minLength": 1
          }
        }
      },
      "user": {
        "name": "user",
        "in": "query",
        "required": false,
        "description": "Only these users (repeatable).",
        "style": "form",
        "explode": true,
        "schema": {
          "type": "array",
          "items": {
            "type": "string",
            "minLength": 1
          }
        }
      },
      "caller": {
        "name": "caller",
        "in": "query",
        "required": false,
        "description": "Only these callers (repeatable).",
        "style": "form",
        "explode": true,
        "schema": {
          "type": "array",
          "items": {
            "type": "string",
            "minLength": 1
          }
        }
      },
      "role": {
        "name": "role",
        "in": "query",
        "required": false,
        "description": "Only these roles (repeatable).",
        "style": "form",
        "explode": true,
        "schema": {
          "type": "array",
          "items": {
            "type": "string",
            "minLength": 1
          }
        }
      },
      "task": {
        "name": "task",
        "in": "query",
        "required": false,
        "description": "Only these tasks (repeatable).",
        "style": "form",
        "explode": true,
        "schema": {
          "type": "array",
          "items": {
            "type": "string",
            "minLength": 1
          }
        }
      },
      "session": {
        "name": "session",
        "in": "query",
        "required": false,
        "description": "Only these sessions (repeatable).",
        "style": "form",
        "explode": true,
        "schema": {
          "type": "array",
          "items": {
            "type": "string",
            "minLength": 1
          }
        }
      },
      "status": {
        "name": "status",
        "in": "query",
        "required": false,
        "description": "Only this status, ok or error (repeatable).",
        "style": "form",
        "explode": true,
        "schema": {
          "type": "array",
          "items": {
            "type": "string",
            "enum": [
              "ok",
              "error"
            ]
          }
        }
      },
      "tag": {
        "name": "tag",
        "in": "query",
        "required": false,
        "description": "Only records with this tag value, KEY=VALUE (repeatable: values of one key are alternatives, different keys are all required).",
        "style": "form",
        "explode": true,
        "schema": {
          "type": "array",
          "items": {
            "type": "string",
            "pattern": "^[^=]+="
          }
        }
      },
      "since": {
        "name": "since",
        "in": "query",
        "required": false,
        "description": "From this date (midnight in tz) or RFC 3339 time, inclusive.",
        "schema": {
          "type": "string",
          "minLength": 10
        }
      },
      "until": {
        "name": "until",
        "in": "query",
        "required": false,
        "description": "Up to this date or RFC 3339 time, exclusive.",
        "schema": {
          "type": "string",
          "minLength": 10
        }
      },
      "tz": {
        "name": "tz",
        "in": "query",
        "required": false,
        "description": "IANA time zone of day, week and month groups and of dates given as bounds (default UTC).",
        "schema": {
          "type": "string",
          "minLength": 1
        }
      },
      "columns": {
        "name": "columns",
        "in": "query",
        "required": false,
        "description": "Metric columns, comma-separated, in order (repeatable).",
        "style": "form",
        "explode": true,
        "schema": {
          "type": "array",
          "items": {
            "type": "string"
          }
        }
      },
      "by": {
        "name": "by",
        "in": "query",
        "required": false,
        "description": "Group by project, model, provider, user, caller, role, task, status, tag:KEY, day, week or month (repeatable: a cross table).",
        "style": "form",
        "explode": true,
        "schema": {
          "type": "array",
          "items": {
            "type": "string",
            "minLength": 1
          }
        }
      },
      "limit": {
        "name": "limit",
        "in": "query",
        "required": false,
        "description": "Records in a page, 1 to 1000 (default 100).",
        "schema": {
          "type": "integer",
          "minimum": 1,
          "maximum": 1000
        }
      },
      "cursor": {
        "name": "cursor",
        "in": "query",
        "required": false,
        "description": "The next_cursor of the previous page, as it came.",
        "schema": {
          "type": "string"
        }
      },
      "title": {
        "name": "title",
        "in": "query",
        "required": false,
        "description": "The report's title.",
        "schema": {
          "type": "string"
        }
      }
    },
    "schemas": {
      "Error": {
        "type": "object",
        "required": [
          "error"
        ],
        "properties": {
          "error": {
            "type": "string"
          },
          "parameter": {
            "type": "string",
            "description": "The query parameter refused, when there is one."
          }
        }
      },
      "StatsRow": {
        "type": "object",
        "description": "One group: its keys (named as in `by`; null where a record has no value), then the metric columns. Numbers are exact decimals.",
        "additionalProperties": {
          "oneOf": [
            {
              "type": "string"
            },
            {
              "type": "number"
            }
          ],
          "nullable": true
        },
        "properties": {
          "requests": {
            "type": "integer"
          },
          "input_tokens": {
            "type": "integer"
          },
          "output_tokens": {
            "type": "integer"
          },
          "cached_input_tokens": {
            "type": "integer"
          },
          "cache_write_tokens": {
            "type": "integer"
          },
          "reasoning_tokens": {
            "type": "integer"
          },
          "cost_usd": {
            "type": "number"
          },
          "unpriced_requests": {
            "type": "integer"
          },
          "errors": {
            "type": "integer"
          },
          "avg_latency_ms": {
            "type": "integer",
            "nullable": true
          },
          "cost_per_1k_requests": {
            "type": "number",
            "nullable": true
          },
          "cache_hit_share": {
            "type": "number",
            "nullable": true
          }
        }
      },
      "Record": {
        "type": "object",
        "description": "A record as stored (docs/FORMAT.md).",
        "required": [
          "ts",
          "id",
          "project",
          "model"
        ],
        "additionalProperties": true,
        "properties": {
          "ts": {
            "type": "string"
          },
          "id": {
            "type": "string"
          },
          "project": {
            "type": "string"
          },
          "model": {
            "type": "string"
          },
          "provider": {
            "type": "string"
          },
          "input_tokens": {
            "type": "integer"
          },
          "output_tokens": {
            "type": "integer"
          },
          "cost_usd": {
            "type": "number"
          },
          "tags": {
            "type": "object",
            "additionalProperties": {
              "type": "string"
            }
          }
        }
      },
      "LimitStatus": {
        "type": "object",
        "required": [
          "id",
          "scope",
          "type",
          "max",
          "window",
          "tz",
          "spent",
          "held",
          "remaining",
          "percent_used",
          "window_start",
          "resets_at"
        ],
        "properties": {
          "id": {
            "type": "string"
          },
          "scope": {
            "type": "string"
          },
          "type": {
            "type": "string",
            "enum": [
              "cost",
              "tokens",
              "requests"
            ]
          },
          "max": {
            "type": "number"
          },
          "window": {
            "type": "string"
          },
          "tz": {
            "type": "string"
          },
          "soft": {
            "type": "number"
          },
          "spent": {
            "type": "number"
          },
          "held": {
            "type": "number"
          },
          "remaining": {
            "type": "number"
          },
          "percent_used": {
            "type": "number"
          },
          "window_start": {
            "type": "string",
            "format": "date-time"
          },
          "resets_at": {
            "type": "string",
            "format": "date-time",
            "nullable": true
          }
        }
      }
    },
    "responses": {
      "BadRequest": {
        "description": "A parameter was refused; the error names it.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Unauthorized": {
        "description": "No token, or not the server's.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Unavailable": {
        "description": "Busy, or the answer took longer than the time-out.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "ServerError": {
        "description": "The log could not be read; the error names the file.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      }
    },
    "headers": {
      "Spendlog-Damaged": {
        "description": "Present when damaged segments were left out of the answer (as the CLI warns on standard error and exits 65): how many, and the first one's message. `spendlog verify` lists them.",
        "schema": {
          "type": "string"
        }
      }
    }
  }
}
"""## + "\n"
}
