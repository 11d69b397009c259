using Microsoft.Diagnostics.Runtime;

namespace ReplayVm.Inspect;

/// <summary>
/// Reads ReplayVm's objects by type and field name. A field that is missing means the target was
/// built from other sources than this inspector, which is said in one line instead of a wrong answer.
/// </summary>
internal static class HeapFields
{
    private static ClrInstanceField Field(ClrObject obj, string name)
    {
        var type = obj.Type ?? throw new InspectException($"object 0x{obj.Address:x} has no readable type (a damaged heap?)");
        return type.GetFieldByName(name) ?? type.GetFieldByName($"<{name}>k__BackingField")
            ?? throw new InspectException(
                $"{type.Name} has no field '{name}': the target was built from other ReplayVm sources than this inspector; inspect it with the replayvm that ran it");
    }

    public static bool Has(this ClrObject obj, string name) =>
        obj.Type is { } type && (type.GetFieldByName(name) ?? type.GetFieldByName($"<{name}>k__BackingField")) is not null;

    public static T Get<T>(this ClrObject obj, string name) where T : unmanaged => obj.ReadField<T>(Field(obj, name).Name!);

    /// <summary>An object field; a null reference gives null.</summary>
    public static ClrObject? Obj(this ClrObject obj, string name)
    {
        var value = obj.ReadObjectField(Field(obj, name).Name!);
        return value.IsNull ? null : value;
    }

    public static ClrObject Required(this ClrObject obj, string name) =>
        Obj(obj, name) ?? throw new InspectException($"{obj.Type?.Name}.{name} is null in the target");

    public static string? Str(this ClrObject obj, string name) => Obj(obj, name) is { } s ? s.AsString(1 << 16) : null;

    public static ClrValueType Struct(this ClrObject obj, string name) => obj.ReadValueTypeField(Field(obj, name).Name!);

    /// <summary>The elements of an array of unmanaged values, at most <paramref name="limit"/> of them.</summary>
    public static T[] Values<T>(this ClrObject array, int limit = int.MaxValue) where T : unmanaged
    {
        var a = array.AsArray();
        int length = Math.Min(a.Length, limit);
        return length == 0 ? [] : a.ReadValues<T>(0, length) ?? throw new InspectException($"cannot read array 0x{array.Address:x}");
    }

    /// <summary>
    /// The items of a collection of references: an array, a <c>List&lt;T&gt;</c>, or what C# collection
    /// expressions build for read-only lists (a wrapper around one item or around an array).
    /// </summary>
    public static List<ClrObject> Items(this ClrObject collection)
    {
        var result = new List<ClrObject>();
        ClrObject array = collection;
        int count = int.MaxValue;
        if (collection.Type is { IsArray: false })
        {
            if (collection.Has("_item") && !collection.Has("_items"))
            {
                if (collection.Obj("_item") is { } single) result.Add(single);
                return result;
            }
            array = collection.Required("_items");
            if (collection.Has("_size")) count = collection.Get<int>("_size");
        }
        var a = array.AsArray();
        count = Math.Min(count, a.Length);
        for (int i = 0; i < count; i++)
        {
            var item = a.GetObjectValue(i);
            if (!item.IsNull) result.Add(item);
        }
        return result;
    }
}
