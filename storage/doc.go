// Package storage uploads rendered files to Azure Blob Storage (or Azurite)
// with azblob.
//
// [New] builds the client from a [Config] (a connection string, or an
// account, key and endpoint). [Blob.Upload] writes one blob with its
// Content-Type and Cache-Control, creating a missing container on the way,
// and returns an [empplay.Error] with [empplay.CodeStorageError] whose
// Retryable field says whether another attempt could succeed: throttling,
// server errors, timeouts and network failures are transient; rejected
// requests (bad credentials, invalid names) are permanent.
//
// Error messages carry the operation, container and blob name, the HTTP
// status and Azure's error code, never a key, a SAS token or the raw
// response body.
package storage
