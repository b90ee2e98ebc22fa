using LokiSharp.Querier.Requests;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

namespace LokiSharp.Server.Http;

/// <summary>
/// Query parameters as Loki reads them: URL query merged with an <c>application/x-www-form-urlencoded</c> POST
/// body, the body first, as Go's <c>Request.Form</c> does.
/// </summary>
internal sealed class RequestParams : IRequestParameters
{
    /// <summary>
    /// Longest request line, and header block, the HTTP listener takes: room for a GET query as long as the
    /// parser accepts with every byte percent-encoded (3 bytes each) beside the other parameters. Eight times the
    /// query limit is 1 MiB, Go's default header limit that Loki runs with, so longer queries reach the parser and
    /// get its error instead of Kestrel's 414 at 8 KiB (Grafana's multi-value variables build such queries).
    /// </summary>
    public const int MaxRequestLineSize = 8 * LogQL.Syntax.LogQLParser.MaxInputSize;

    private readonly IQueryCollection _query;
    private readonly IFormCollection? _form;

    private RequestParams(IQueryCollection query, IFormCollection? form)
    {
        _query = query;
        _form = form;
    }

    /// <summary>Largest form body read: Go's limit for a POST form, beyond which Loki answers 400 <c>http: POST too large</c>.</summary>
    public const int MaxFormSize = 10 << 20;

    // Go bounds the form body as a whole, not the length or the number of its keys and values.
    private static readonly FormOptions FormLimits = new()
    {
        ValueCountLimit = int.MaxValue,
        KeyLengthLimit = MaxFormSize,
        ValueLengthLimit = MaxFormSize,
        MultipartBodyLengthLimit = MaxFormSize,
    };

    /// <summary>Reads the form body when there is one.</summary>
    /// <exception cref="QueryRequestException">400: the form is larger than Go reads, or malformed.</exception>
    public static async Task<RequestParams> ReadAsync(HttpRequest request)
    {
        IFormCollection? form = null;
        if (HttpMethods.IsPost(request.Method) && request.HasFormContentType)
        {
            if (request.ContentLength > MaxFormSize)
            {
                throw new QueryRequestException("http: POST too large");
            }

            // The server takes push bodies of any size (their routes bound them); a form is held to Go's limit as it is read.
            if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
            {
                bodySize.MaxRequestBodySize = MaxFormSize;
            }

            try
            {
                form = await request.ReadFormAsync(FormLimits, request.HttpContext.RequestAborted).ConfigureAwait(false);
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                throw new QueryRequestException("http: POST too large", e);
            }
            catch (InvalidDataException e)
            {
                throw new QueryRequestException(e.Message, e);
            }
        }

        return new RequestParams(request.Query, form);
    }

    /// <summary>The first value of a parameter, or null.</summary>
    public string? Get(string name)
    {
        if (_form is not null && _form.TryGetValue(name, out var fromForm) && fromForm.Count > 0)
        {
            return fromForm[0];
        }

        return _query.TryGetValue(name, out var fromQuery) && fromQuery.Count > 0 ? fromQuery[0] : null;
    }

    /// <summary>Every value of a repeated parameter (<c>match[]</c>).</summary>
    public List<string> GetAll(string name)
    {
        var values = new List<string>();
        if (_form is not null && _form.TryGetValue(name, out var fromForm))
        {
            Add(values, fromForm);
        }

        if (_query.TryGetValue(name, out var fromQuery))
        {
            Add(values, fromQuery);
        }

        return values;
    }

    private static void Add(List<string> values, StringValues from)
    {
        foreach (var value in from)
        {
            if (value is not null)
            {
                values.Add(value);
            }
        }
    }
}
