//! The multiboot1 header and the 32-bit entry: boot page tables (the first GiB identity
//! mapped, at the direct map 0xffff_8000_0000_0000 and at the kernel's 0xffff_ffff_8000_0000),
//! long mode, then a jump to the higher half and [`super::boot::kmain`].
//!
//! The header uses the a.out-kludge address fields (flag bit 16) so QEMU's `-kernel` loads
//! this ELF64 file as a flat image at 1 MiB without looking at its ELF headers.

core::arch::global_asm!(
    r#"
    .set KVMA, 0xffffffff80000000
    .set MB_MAGIC, 0x1BADB002
    .set MB_FLAGS, 0x00010003

    .section .multiboot, "a"
    .balign 4
mb_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
    .long mb_header - KVMA
    .long __kernel_start_phys
    .long __load_end_phys
    .long __kernel_end_phys
    .long _start_phys

    .section .text.boot, "ax"
    .code32
    .global _start
_start:
    cli
    mov %eax, (boot_magic - KVMA)
    mov %ebx, (boot_mbi - KVMA)
    mov $(boot_stack_top - KVMA), %esp

    /* Local APIC virtual-wire mode (software-enabled, LVT LINT0 = ExtINT, unmasked) while
       physical addresses are still directly accessible (no paging yet): `pic::init` later
       disables the APIC globally, and QEMU's TCG APIC model (7.2) still routes the 8259
       through LINT0 then, dropping every interrupt if LINT0 is masked (as qboot leaves
       it). SeaBIOS sets this mode itself. Skipped without an APIC, with the APIC globally
       disabled, or in x2APIC mode (no MMIO). */
    mov $1, %eax
    cpuid
    test $0x200, %edx
    jz 3f
    mov $0x1b, %ecx
    rdmsr
    and $0xc00, %eax
    cmp $0x800, %eax
    jne 3f
    rdmsr
    and $0xfffff000, %eax
    orl $0x100, 0xf0(%eax)
    movl $0x700, 0x350(%eax)
3:

    mov $(boot_pdpt_low - KVMA + 0x23), %eax
    mov %eax, (boot_pml4 - KVMA)
    mov %eax, (boot_pml4 - KVMA + 256 * 8)
    mov $(boot_pdpt_high - KVMA + 0x23), %eax
    mov %eax, (boot_pml4 - KVMA + 511 * 8)
    mov $(boot_pd - KVMA + 0x23), %eax
    mov %eax, (boot_pdpt_low - KVMA)
    mov %eax, (boot_pdpt_high - KVMA + 510 * 8)

    mov $(boot_pd - KVMA), %edi
    mov $0x1e3, %eax
    mov $512, %ecx
1:
    mov %eax, (%edi)
    movl $0, 4(%edi)
    add $0x200000, %eax
    add $8, %edi
    loop 1b

    mov %cr4, %eax
    or $0x20, %eax
    mov %eax, %cr4
    mov $(boot_pml4 - KVMA), %eax
    mov %eax, %cr3
    mov $0xC0000080, %ecx
    rdmsr
    or $0x901, %eax
    wrmsr
    mov %cr0, %eax
    or $0x80010001, %eax
    mov %eax, %cr0

    lgdt (boot_gdt_ptr - KVMA)
    ljmp $0x10, $(boot_long_mode - KVMA)

    .code64
boot_long_mode:
    mov $0x18, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    movabs $boot_high, %rax
    jmp *%rax
boot_high:
    movabs $boot_stack_top, %rsp
    xor %ebp, %ebp
    mov boot_magic(%rip), %edi
    mov boot_mbi(%rip), %esi
    call kmain
2:
    cli
    hlt
    jmp 2b

    .section .rodata.boot, "a"
    .balign 16
boot_gdt:
    .quad 0
    .quad 0
    .quad 0x00af9a000000ffff
    .quad 0x00cf92000000ffff
boot_gdt_end:
boot_gdt_ptr:
    .word boot_gdt_end - boot_gdt - 1
    .quad boot_gdt - KVMA

    .section .data.boot, "aw"
    .balign 4
boot_magic:
    .long 0
boot_mbi:
    .long 0

    .section .bss.boot, "aw", @nobits
    .balign 4096
    .global boot_pml4
boot_pml4:
    .skip 4096
boot_pdpt_low:
    .skip 4096
    .global boot_pdpt_high
boot_pdpt_high:
    .skip 4096
boot_pd:
    .skip 4096
boot_stack:
    .skip 65536
    .global boot_stack_top
boot_stack_top:
    "#,
    options(att_syntax)
);
