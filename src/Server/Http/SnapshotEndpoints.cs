using System.Text.Json;
using LokiSharp.Server.Hosting;

namespace LokiSharp.Server.Http;

/// <summary>LokiSharp's <c>/snapshot</c>: an online backup of the data directories that <c>tar</c> can read.</summary>
internal static class SnapshotEndpoints
{
    public static void MapSnapshotEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/snapshot", static async (HttpContext context, DataSnapshot snapshot, Storage.Store.ChunkStore store) =>
        {
            if (store.IsBucket)
            {
                // The bucket owns the stored data's durability; a local snapshot would copy only the WAL.
                await PlainText.WriteAsync(context, StatusCodes.Status501NotImplemented,
                    "snapshot is not supported when chunks are kept in object storage (schema_config.configs[].object_store: s3)").ConfigureAwait(false);
                return;
            }

            var result = await snapshot.TakeAsync(context.RequestAborted).ConfigureAwait(false);
            context.Response.ContentType = "application/json; charset=utf-8";
            await using var json = new Utf8JsonWriter(context.Response.Body);
            json.WriteStartObject();
            json.WriteString("status", "success");
            json.WritePropertyName("data");
            json.WriteStartObject();
            json.WriteString("directory", result.Directory);
            json.WriteNumber("files", result.Files);
            json.WriteNumber("copiedBytes", result.CopiedBytes);
            json.WriteNumber("seconds", Math.Round(result.Duration.TotalSeconds, 3));
            json.WriteEndObject();
            json.WriteEndObject();
        });
    }
}
