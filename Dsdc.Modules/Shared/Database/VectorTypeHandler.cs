using System.Data;
using Dapper;
using Npgsql;
using Pgvector;

namespace Dsdc.Shared.Database;

/// <summary>Lets Dapper pass <see cref="Vector"/> parameters as pgvector's <c>vector</c> type and read them back.</summary>
public sealed class VectorTypeHandler : SqlMapper.TypeHandler<Vector?>
{
    public override Vector? Parse(object value) => value switch
    {
        Vector v => v,
        float[] a => new Vector(a),
        _ => throw new DataException($"cannot convert {value.GetType().Name} to a vector"),
    };

    public override void SetValue(IDbDataParameter parameter, Vector? value)
    {
        parameter.Value = value is null ? DBNull.Value : value;
        if (parameter is NpgsqlParameter npgsql)
            npgsql.DataTypeName = "vector";
    }
}
