import { Type } from 'typebox'
import { LimitReachedResponse, MessageResponse, Nullable } from './common.js'

// GET/PUT/POST/DELETE /documents/* and POST /upload.

const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'

export const DocumentListItem = Type.Object({
  name: Type.String(),
  total_chunks: Type.Integer(),
  text_chunks: Type.Integer(),
  table_chunks: Type.Integer(),
  image_chunks: Type.Integer(),
  id: Type.String(),
  filename: Type.String(),
  bytes: Type.Integer(),
  pages: Type.Integer(),
  category: Type.String(),
  tags: Type.Array(Type.String()),
  description: Type.Union([Type.String(), Type.Null()]),
  uploaded_at: Type.String()
})

export const DocumentRecord = Type.Object({
  id: Type.String(),
  name: Type.String(),
  filename: Type.String(),
  file_size: Type.Integer(),
  page_count: Type.Integer(),
  chunk_count: Type.Integer(),
  status: Type.String(),
  processed: Type.Boolean(),
  error_message: Type.Union([Type.String(), Type.Null()]),
  category: Type.String(),
  tags: Type.Array(Type.String()),
  description: Type.Union([Type.String(), Type.Null()]),
  uploaded_at: Type.String(),
  created_at: Type.String()
})

export const Category = Type.Object({
  id: Type.String(),
  name: Type.String(),
  icon: Type.Union([Type.String(), Type.Null()]),
  color: Type.Union([Type.String(), Type.Null()]),
  description: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String()
})

/** Store errors carry `error`, not `message`: clients read that field here. */
export const StoreErrorResponse = Type.Object({ success: Type.Literal(false), error: Type.String() })

export const DocumentListResponse = Type.Union([
  Type.Object({ success: Type.Literal(true), documents: Type.Array(DocumentListItem) }),
  MessageResponse
])

export const DocumentSearchQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 200 })),
  category: Type.Optional(Type.String({ maxLength: 50 })),
  /** Comma-separated; a document must carry all of them. */
  tags: Type.Optional(Type.String({ maxLength: 1000 }))
})

export const DocumentSearchResponse = Type.Object({ success: Type.Literal(true), documents: Type.Array(DocumentRecord), count: Type.Integer() })

export const CategoriesResponse = Type.Object({ success: Type.Literal(true), categories: Type.Array(Category) })

export const DocumentIdParams = Type.Object({ document_id: Type.String({ pattern: UUID_PATTERN }) })

export const DocumentMetadataBody = Nullable(Type.Object({
  category: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
  /** An array, or a comma-separated string (both are accepted). */
  tags: Type.Optional(Type.Union([Type.Array(Type.String({ maxLength: 50 }), { maxItems: 50 }), Type.String({ maxLength: 2000 })])),
  description: Type.Optional(Type.String({ maxLength: 5000 }))
}))

export const DocumentNameParams = Type.Object({ document_name: Type.String() })

export const UploadResponse = Type.Object({
  success: Type.Literal(true),
  message: Type.String(),
  statistics: Type.Object({
    total_chunks: Type.Integer(),
    text_chunks: Type.Integer(),
    table_chunks: Type.Integer(),
    image_chunks: Type.Integer()
  }),
  document: Type.Object({
    id: Type.String(),
    name: Type.String(),
    filename: Type.String(),
    pages: Type.Integer(),
    bytes: Type.Integer(),
    replaced: Type.Boolean()
  })
})

/** The 403 of an upload over the per-user document limit. */
export const DocumentLimitReachedResponse = LimitReachedResponse({ current: Type.Integer() })

/** The per-file 413 (`file_too_large`); the 50 MiB request cap answers the plain envelope. */
export const FileTooLargeResponse = Type.Object({
  success: Type.Literal(false),
  message: Type.String(),
  file_too_large: Type.Optional(Type.Literal(true)),
  limits: Type.Optional(Type.Object({
    allowed: Type.Literal(false),
    size_mb: Type.Number(),
    limit_mb: Type.Number(),
    message: Type.String()
  }))
})
